// Package image builds the golden AMI with Packer through pulumi-command and publishes its id
// in the channel's SSM parameter, where every launch template reads it at deploy time.
package image

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi-command/sdk/go/command/local"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/tags"
)

var hashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// GoldenImageArgs configures the build. The zero value of each optional field is the safe choice.
type GoldenImageArgs struct {
	// TemplateDir is the absolute path of images/: the Packer template and its scripts.
	TemplateDir string
	// ContentHash is the SHA-256 of everything under TemplateDir that goes into the image; the
	// build runs again exactly when it (or Region, Channel, Architecture) changes.
	ContentHash  string
	Region       string
	Channel      string // the release channel: dev, prod
	Architecture string // arm64 or amd64
	// Parameter is the SSM parameter that holds the channel's AMI id.
	Parameter string
	// RetainOnDelete keeps the newest AMI when the stack is destroyed; by default it is
	// deregistered and its snapshots deleted. Earlier AMIs are always kept, for rollback.
	RetainOnDelete bool
	Tags           map[string]string
}

// GoldenImage is the built AMI and the parameter that publishes it.
type GoldenImage struct {
	pulumi.ResourceState
	ImageID       pulumi.StringOutput `pulumi:"imageId"`
	ParameterName pulumi.StringOutput `pulumi:"parameterName"`
}

func (a *GoldenImageArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case !filepath.IsAbs(a.TemplateDir):
		return fmt.Errorf("TemplateDir %q must be absolute", a.TemplateDir)
	case !hashRE.MatchString(a.ContentHash):
		return errors.New("ContentHash must be a hex SHA-256")
	case a.Region == "" || a.Channel == "" || a.Parameter == "":
		return errors.New("Region, Channel and Parameter are required")
	case a.Architecture != "arm64" && a.Architecture != "amd64":
		return fmt.Errorf("Architecture %q is not arm64 or amd64", a.Architecture)
	}
	return nil
}

// NewGoldenImage runs Packer and writes the resulting AMI id to the channel's parameter.
func NewGoldenImage(ctx *pulumi.Context, name string, args *GoldenImageArgs, opts ...pulumi.ResourceOption) (*GoldenImage, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("image %s: %w", name, err)
	}
	img := &GoldenImage{}
	if err := ctx.RegisterComponentResource("immutable-edge:image:GoldenImage", name, img, opts...); err != nil {
		return nil, err
	}
	// The content hash travels in the environment, not in Triggers: pulumi-command replaces a
	// command whose triggers change, and a replacement would run the delete command on the
	// previous AMI, which auto-rollback and manual rollback still need. A changed environment
	// runs Update instead: a new build, the old image kept.
	cmdArgs := &local.CommandArgs{
		Dir:    pulumi.String(args.TemplateDir),
		Create: pulumi.String("./build.sh"),
		Update: pulumi.String("./build.sh"),
		Environment: pulumi.StringMap{
			"REGION":       pulumi.String(args.Region),
			"CHANNEL":      pulumi.String(args.Channel),
			"ARCHITECTURE": pulumi.String(args.Architecture),
			"CONTENT_HASH": pulumi.String(args.ContentHash),
		},
	}
	if !args.RetainOnDelete {
		cmdArgs.Delete = pulumi.String("./deregister.sh")
	}
	build, err := local.NewCommand(ctx, name+"-build", cmdArgs, pulumi.Parent(img))
	if err != nil {
		return nil, fmt.Errorf("image %s: build: %w", name, err)
	}
	amiID := build.Stdout.ApplyT(func(out string) (string, error) {
		id := strings.TrimSpace(out)
		if !strings.HasPrefix(id, "ami-") {
			return "", fmt.Errorf("image %s: the build printed no AMI id (got %q)", name, id)
		}
		return id, nil
	}).(pulumi.StringOutput)
	param, err := ssm.NewParameter(ctx, name+"-ami", &ssm.ParameterArgs{
		Name:        pulumi.String(args.Parameter),
		Description: pulumi.String("golden AMI of the " + args.Channel + " channel (immutable-edge)"),
		Type:        pulumi.String("String"),
		DataType:    pulumi.String("aws:ec2:image"), // SSM checks the value is an AMI this account can use
		// InsecureValue: Value is always marked secret, which would hide the AMI id from every
		// preview and diff; an AMI id is not a secret.
		InsecureValue: amiID,
		Overwrite:     pulumi.Bool(true),
		Tags:          tags.Named(args.Tags, name+"-ami"),
	}, pulumi.Parent(img))
	if err != nil {
		return nil, fmt.Errorf("image %s: parameter: %w", name, err)
	}
	img.ImageID = param.InsecureValue
	img.ParameterName = param.Name
	return img, ctx.RegisterResourceOutputs(img, pulumi.Map{"imageId": img.ImageID, "parameterName": img.ParameterName})
}
