// Package registry builds one ECR repository per service: images are scanned on push,
// tags are immutable (a rollout is a new tag) and old images expire.
package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/tags"
)

var repoNameRE = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$`)

// RegistryArgs configures the repositories.
type RegistryArgs struct {
	// Prefix namespaces the repository names (e.g. "immutable-edge/dev"); each is Prefix/<service>.
	Prefix string
	// Services are the service names, one repository each, in a stable order.
	Services []string
	// KeepImages is how many images each repository keeps; older ones expire.
	KeepImages int
	// ForceDelete lets `pulumi destroy` delete the repositories with the images in them
	// (throwaway stacks; policy rule IE_PROTECT reports it). Otherwise they are protected.
	ForceDelete bool
	Tags        map[string]string
}

// Registry holds the repositories of one stack.
type Registry struct {
	pulumi.ResourceState
	RepositoryURLs pulumi.StringMapOutput   `pulumi:"repositoryUrls"` // service → URL
	RepositoryARNs pulumi.StringArrayOutput `pulumi:"repositoryArns"` // in Services order
}

func (a *RegistryArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	if len(a.Services) == 0 {
		return errors.New("Services needs at least one service")
	}
	if a.KeepImages < 1 {
		return fmt.Errorf("KeepImages must be at least 1, got %d", a.KeepImages)
	}
	seen := map[string]bool{}
	for _, s := range a.Services {
		if !repoNameRE.MatchString(a.Prefix+"/"+s) || seen[s] {
			return fmt.Errorf("service %q does not make a unique repository name under %q", s, a.Prefix)
		}
		seen[s] = true
	}
	return nil
}

// NewRegistry creates one repository and lifecycle policy per service.
func NewRegistry(ctx *pulumi.Context, name string, args *RegistryArgs, opts ...pulumi.ResourceOption) (*Registry, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("registry %s: %w", name, err)
	}
	r := &Registry{}
	if err := ctx.RegisterComponentResource("immutable-edge:registry:Registry", name, r, opts...); err != nil {
		return nil, err
	}
	lifecycle, err := lifecyclePolicy(args.KeepImages)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", name, err)
	}
	urls := pulumi.StringMap{}
	var arns pulumi.StringArray
	for _, svc := range args.Services {
		repo, err := ecr.NewRepository(ctx, name+"-"+svc, &ecr.RepositoryArgs{
			Name:               pulumi.String(args.Prefix + "/" + svc),
			ImageTagMutability: pulumi.String("IMMUTABLE"),
			ImageScanningConfiguration: &ecr.RepositoryImageScanningConfigurationArgs{
				ScanOnPush: pulumi.Bool(true),
			},
			// KMS with the AWS-managed key: encrypted at rest with no key to run (CKV_AWS_136).
			EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{
				&ecr.RepositoryEncryptionConfigurationArgs{EncryptionType: pulumi.String("KMS")},
			},
			// DeleteRepository with force has ECR delete the images itself, so ecr:DeleteRepository is
			// all it takes (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteRepository.html).
			ForceDelete: pulumi.Bool(args.ForceDelete),
			Tags:        tags.Named(args.Tags, args.Prefix+"/"+svc),
		}, pulumi.Parent(r), pulumi.Protect(!args.ForceDelete))
		if err != nil {
			return nil, fmt.Errorf("registry %s: repository %s: %w", name, svc, err)
		}
		if _, err := ecr.NewLifecyclePolicy(ctx, name+"-"+svc, &ecr.LifecyclePolicyArgs{
			Repository: repo.Name,
			Policy:     pulumi.String(lifecycle),
		}, pulumi.Parent(r)); err != nil {
			return nil, fmt.Errorf("registry %s: lifecycle %s: %w", name, svc, err)
		}
		urls[svc] = repo.RepositoryUrl
		arns = append(arns, repo.Arn)
	}
	r.RepositoryURLs = urls.ToStringMapOutput()
	r.RepositoryARNs = arns.ToStringArrayOutput()
	return r, ctx.RegisterResourceOutputs(r, pulumi.Map{
		"repositoryUrls": r.RepositoryURLs,
		"repositoryArns": r.RepositoryARNs,
	})
}

// lifecyclePolicy expires untagged layers after a day and keeps the newest keep images.
func lifecyclePolicy(keep int) (string, error) {
	type selection struct {
		TagStatus   string `json:"tagStatus"`
		CountType   string `json:"countType"`
		CountUnit   string `json:"countUnit,omitempty"`
		CountNumber int    `json:"countNumber"`
	}
	type rule struct {
		RulePriority int               `json:"rulePriority"`
		Description  string            `json:"description"`
		Selection    selection         `json:"selection"`
		Action       map[string]string `json:"action"`
	}
	b, err := json.Marshal(map[string][]rule{"rules": {
		{1, "expire untagged images after a day", selection{"untagged", "sinceImagePushed", "days", 1}, map[string]string{"type": "expire"}},
		{2, fmt.Sprintf("keep the newest %d images", keep), selection{"any", "imageCountMoreThan", "", keep}, map[string]string{"type": "expire"}},
	}})
	return string(b), err
}
