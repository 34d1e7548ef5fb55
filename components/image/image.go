// Package image builds the golden AMI with Packer through pulumi-command, publishes its id in
// the channel's SSM parameter, where every launch template reads it at deploy time, and retires
// the channel's images nothing uses any more.
package image

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi-command/sdk/go/command/local"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/tags"
)

var (
	hashRE    = regexp.MustCompile(`^[0-9a-f]{64}$`)
	projectRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// RollbackVersions is the rollback window retention honours: an AMI that one of the newest
// this many versions (or the default version) of any of the project's launch templates names
// is never deregistered, so a rollout can always return to the versions before it.
const RollbackVersions = 5

// GoldenImageArgs configures the build. The zero value of each optional field is the safe choice.
type GoldenImageArgs struct {
	// Scripts is images/ relative to the project directory (where Pulumi.yaml is): the commands
	// run from there, so no absolute path of the checkout reaches the state.
	Scripts string
	// ContentHash is the SHA-256 of everything under Scripts that goes into the image; the
	// build runs again exactly when it (or Region, Channel, Architecture, SubnetID) changes.
	ContentHash  string
	Region       string
	Channel      string // the release channel: dev, prod
	Architecture string // arm64 or amd64
	// SubnetID is the public subnet of the stack that the build instance runs in, so the build
	// needs no default VPC.
	SubnetID pulumi.StringInput
	// Parameter is the SSM parameter that holds the channel's AMI id.
	Parameter string
	// Project is the Project tag of the images and launch templates and the parameter prefix
	// (/<project>/) retention reads the images in use from.
	Project string
	// Keep is how many of the channel's newest images retention keeps besides the referenced ones.
	Keep int
	// RetainOnDelete keeps the channel's images when the stack is destroyed; by default every
	// image nothing references any more is deregistered and its snapshots deleted.
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
	case a.Scripts == "" || path.IsAbs(a.Scripts) || path.Clean(a.Scripts) != a.Scripts || strings.HasPrefix(a.Scripts, ".."):
		return fmt.Errorf("Scripts %q must be a clean path inside the project directory, like images", a.Scripts)
	case !hashRE.MatchString(a.ContentHash):
		return errors.New("ContentHash must be a hex SHA-256")
	case a.Region == "" || a.Channel == "" || a.Parameter == "":
		return errors.New("Region, Channel and Parameter are required")
	case a.Architecture != "arm64" && a.Architecture != "amd64":
		return fmt.Errorf("Architecture %q is not arm64 or amd64", a.Architecture)
	case a.SubnetID == nil:
		return errors.New("SubnetID is required: the build runs in the stack's public subnet")
	case !projectRE.MatchString(a.Project):
		return fmt.Errorf("Project %q is not a project name", a.Project)
	case a.Keep < 1:
		return fmt.Errorf("Keep must be at least 1 (the image just built), got %d", a.Keep)
	}
	return nil
}

// NewGoldenImage runs Packer, retires the channel's unused images and writes the new AMI id to
// the channel's parameter.
func NewGoldenImage(ctx *pulumi.Context, name string, args *GoldenImageArgs, opts ...pulumi.ResourceOption) (*GoldenImage, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("image %s: %w", name, err)
	}
	img := &GoldenImage{}
	if err := ctx.RegisterComponentResource("immutable-edge:image:GoldenImage", name, img, opts...); err != nil {
		return nil, err
	}
	// No Dir: pulumi-command runs a command without one in the provider's working directory
	// (provider/pkg/provider/local/commandOutputs.go: cmd.Dir = os.Getwd()), which is the project
	// directory the engine starts plugins in (pulumi pkg/engine/project.go getPwdMain;
	// sdk/go/common/resource/plugin/plugin.go: cmd.Dir = pwd). A relative command keeps the
	// checkout's path out of the state, so a clone elsewhere plans no change.
	//
	// The content hash travels in the environment, not in Triggers: pulumi-command replaces a
	// command whose triggers change, and a replacement runs the delete command. A changed
	// environment runs Update instead: a new build.
	build, err := local.NewCommand(ctx, name+"-build", &local.CommandArgs{
		Create: pulumi.String(args.Scripts + "/build.sh"),
		Update: pulumi.String(args.Scripts + "/build.sh"),
		Environment: pulumi.StringMap{
			"REGION":       pulumi.String(args.Region),
			"CHANNEL":      pulumi.String(args.Channel),
			"ARCHITECTURE": pulumi.String(args.Architecture),
			"CONTENT_HASH": pulumi.String(args.ContentHash),
			"SUBNET_ID":    args.SubnetID,
		},
	}, pulumi.Parent(img))
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
	prune, err := newRetention(ctx, name, args, amiID, img)
	if err != nil {
		return nil, err
	}
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
	}, pulumi.Parent(img), pulumi.DependsOn([]pulumi.Resource{prune}))
	if err != nil {
		return nil, fmt.Errorf("image %s: parameter: %w", name, err)
	}
	img.ImageID = param.InsecureValue
	img.ParameterName = param.Name
	return img, ctx.RegisterResourceOutputs(img, pulumi.Map{"imageId": img.ImageID, "parameterName": img.ParameterName})
}

// newRetention is the command that runs images/prune.sh after each build, and with keep 0 when
// the stack is destroyed. Its own command, not a step of build.sh, so that changing image.keep
// reruns retention without rebuilding the image. The parameter depends on it: a destroy deletes
// the parameter (and before it the launch template that reads it) first, so the channel's own
// references are gone when retention runs, and what other stacks use is all that stays.
func newRetention(ctx *pulumi.Context, name string, args *GoldenImageArgs, latest pulumi.StringOutput, parent pulumi.Resource) (*local.Command, error) {
	prune := args.Scripts + "/prune.sh"
	cmdArgs := &local.CommandArgs{
		Create: pulumi.String(prune),
		Update: pulumi.String(prune),
		Environment: pulumi.StringMap{
			"REGION":            pulumi.String(args.Region),
			"CHANNEL":           pulumi.String(args.Channel),
			"PROJECT":           pulumi.String(args.Project),
			"KEEP":              pulumi.String(strconv.Itoa(args.Keep)),
			"ROLLBACK_VERSIONS": pulumi.String(strconv.Itoa(RollbackVersions)),
			"LATEST":            latest, // a new image runs retention again
		},
	}
	if !args.RetainOnDelete {
		cmdArgs.Delete = pulumi.String(prune + " --keep 0")
	}
	cmd, err := local.NewCommand(ctx, name+"-retention", cmdArgs, pulumi.Parent(parent))
	if err != nil {
		return nil, fmt.Errorf("image %s: retention: %w", name, err)
	}
	return cmd, nil
}
