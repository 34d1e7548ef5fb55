// Package fleet runs the instances of a stack: a launch template that starts only the golden
// AMI with IMDSv2 and an encrypted root volume, and an Auto Scaling group. The group takes the
// template's version only when it is created; every later version reaches it through the
// instance refresh of components/rollout, which writes it to the group once the refresh succeeds.
package fleet

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// LaunchHookTimeout is how long a new instance may take to report ready: image pulls, a
// certificate via DNS-01 and the health gate fit well within it.
const LaunchHookTimeout = 900

// MaxUserData is EC2's limit on user-data before base64 encoding.
const MaxUserData = 16 * 1024

// MinHealthy and MaxHealthy are the percentages of desired capacity kept in service and allowed
// while instances are replaced, by a refresh or after a failed health check: every replacement
// launches before its predecessor goes.
const (
	MinHealthy = 100
	MaxHealthy = 200
)

// DefaultWarmup is the boot-to-healthy time assumed when WarmupSeconds is 0.
const DefaultWarmup = 180

// FleetArgs configures the launch template and Auto Scaling group.
// The zero value of each optional field is the safe choice.
type FleetArgs struct {
	ImageID            pulumi.StringInput // the golden AMI, read from its SSM parameter at deploy time
	InstanceType       string
	InstanceProfileARN pulumi.StringInput
	SecurityGroupIDs   pulumi.StringArrayInput
	SubnetIDs          pulumi.StringArrayInput
	// UserData is the plain-text instance payload; the fleet checks its size and base64-encodes it.
	UserData pulumi.StringInput
	// PublicIP gives each instance a public address (eip edge without NAT; policy reports it).
	PublicIP          bool
	Min, Max, Desired int
	// TargetGroupARNs registers instances with a load balancer and switches to ELB health checks.
	TargetGroupARNs pulumi.StringArrayInput
	// RootDeviceName is the AMI's root device; empty means /dev/xvda (Debian's AMIs, the golden image's base).
	RootDeviceName string
	RootVolumeGB   int
	// IMDSHopLimit is the metadata hop limit; 0 means 1, so containers cannot reach IMDS.
	IMDSHopLimit int
	// LaunchHook names a launch lifecycle hook: a new instance stays Pending until its boot
	// script reports ready (complete-lifecycle-action CONTINUE), and is terminated if it does not
	// within LaunchHookTimeout. Empty means no hook.
	LaunchHook string
	// WarmupSeconds is how long a new instance takes to boot and pass its health gate; 0 means DefaultWarmup.
	WarmupSeconds int
	// Scaling attaches target-tracking policies that move the group between Min and Max; nil
	// keeps it at Desired. With it, Desired is the size at creation only (see NewFleet).
	Scaling *Scaling
	// BasicMonitoring turns detailed monitoring off: EC2 metrics every 5 minutes instead of every
	// minute, for no charge (policy reports it, CKV_AWS_126).
	BasicMonitoring bool
	Tags            map[string]string
}

// Fleet is the launch template and Auto Scaling group of one stack.
type Fleet struct {
	pulumi.ResourceState
	GroupName             pulumi.StringOutput `pulumi:"groupName"`
	LaunchTemplateID      pulumi.StringOutput `pulumi:"launchTemplateId"`
	LaunchTemplateVersion pulumi.IntOutput    `pulumi:"launchTemplateVersion"`
	ImageID               pulumi.StringOutput `pulumi:"imageId"` // the AMI the template points at
}

func (a *FleetArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.ImageID == nil || a.InstanceProfileARN == nil || a.SecurityGroupIDs == nil || a.SubnetIDs == nil || a.UserData == nil:
		return errors.New("ImageID, InstanceProfileARN, SecurityGroupIDs, SubnetIDs and UserData are required")
	case a.InstanceType == "":
		return errors.New("InstanceType is required")
	case a.Min < 1 || a.Min > a.Desired || a.Desired > a.Max:
		return fmt.Errorf("capacity must satisfy 1 <= Min <= Desired <= Max, got %d/%d/%d", a.Min, a.Desired, a.Max)
	case a.RootVolumeGB < 8:
		return fmt.Errorf("RootVolumeGB must be at least 8, got %d", a.RootVolumeGB)
	case a.IMDSHopLimit < 0 || a.IMDSHopLimit > 2:
		return fmt.Errorf("IMDSHopLimit must be 1 or 2, got %d", a.IMDSHopLimit)
	case a.Scaling != nil:
		return a.Scaling.validate(a)
	}
	return nil
}

// NewFleet creates the launch template and the Auto Scaling group.
func NewFleet(ctx *pulumi.Context, name string, args *FleetArgs, opts ...pulumi.ResourceOption) (*Fleet, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("fleet %s: %w", name, err)
	}
	f := &Fleet{}
	if err := ctx.RegisterComponentResource("immutable-edge:fleet:Fleet", name, f, opts...); err != nil {
		return nil, err
	}
	lt, err := ec2.NewLaunchTemplate(ctx, name+"-lt", launchTemplateArgs(name, args), pulumi.Parent(f))
	if err != nil {
		return nil, fmt.Errorf("fleet %s: launch template: %w", name, err)
	}
	// The group's template is ignored after creation. On a change of it the AWS provider updates
	// the group first and starts its refresh after (resourceGroupUpdate, see docs/architecture.md,
	// "Rollout"), so an auto-rollback would return to the new version (terraform-provider-aws
	// #34189). components/rollout moves the group instead, through the refresh's
	// DesiredConfiguration, which AWS saves on the group only when the refresh succeeds.
	asg, err := autoscaling.NewGroup(ctx, name+"-asg", groupArgs(name, args, lt), pulumi.Parent(f),
		pulumi.IgnoreChanges(ignoredInputs(args)))
	if err != nil {
		return nil, fmt.Errorf("fleet %s: auto scaling group: %w", name, err)
	}
	if args.Scaling != nil {
		if _, err := newPolicies(ctx, name, args.Scaling, asg, pulumi.Parent(f)); err != nil {
			return nil, fmt.Errorf("fleet %s: %w", name, err)
		}
	}
	f.GroupName = asg.Name
	f.LaunchTemplateID = lt.ID().ToStringOutput()
	f.LaunchTemplateVersion = lt.LatestVersion
	f.ImageID = lt.ImageId.Elem()
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{
		"groupName":             f.GroupName,
		"launchTemplateId":      f.LaunchTemplateID,
		"launchTemplateVersion": f.LaunchTemplateVersion,
		"imageId":               f.ImageID,
	})
}

func launchTemplateArgs(name string, a *FleetArgs) *ec2.LaunchTemplateArgs {
	root := a.RootDeviceName
	if root == "" {
		root = "/dev/xvda"
	}
	hops := max(a.IMDSHopLimit, 1)
	var specs ec2.LaunchTemplateTagSpecificationArray
	for _, kind := range []string{"instance", "volume", "network-interface"} {
		specs = append(specs, &ec2.LaunchTemplateTagSpecificationArgs{
			ResourceType: pulumi.String(kind),
			Tags:         tags.Named(a.Tags, name),
		})
	}
	return &ec2.LaunchTemplateArgs{
		NamePrefix:   pulumi.String(name + "-"),
		Description:  pulumi.String("golden AMI instances of " + name + "; every change is a new version and an instance refresh"),
		ImageId:      a.ImageID,
		InstanceType: pulumi.String(a.InstanceType),
		IamInstanceProfile: &ec2.LaunchTemplateIamInstanceProfileArgs{
			Arn: a.InstanceProfileARN,
		},
		MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"), // IMDSv2 only (CKV_AWS_79)
			HttpPutResponseHopLimit: pulumi.Int(hops),
			InstanceMetadataTags:    pulumi.String("enabled"), // scripts read their Stack tag locally
		},
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{
			&ec2.LaunchTemplateBlockDeviceMappingArgs{
				DeviceName: pulumi.String(root),
				Ebs: &ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
					VolumeType:          pulumi.String("gp3"),
					VolumeSize:          pulumi.Int(a.RootVolumeGB),
					Encrypted:           pulumi.String("true"),
					DeleteOnTermination: pulumi.String("true"),
				},
			},
		},
		NetworkInterfaces: ec2.LaunchTemplateNetworkInterfaceArray{
			&ec2.LaunchTemplateNetworkInterfaceArgs{
				DeviceIndex:              pulumi.Int(0),
				AssociatePublicIpAddress: pulumi.String(strconv.FormatBool(a.PublicIP)),
				SecurityGroups:           a.SecurityGroupIDs,
				DeleteOnTermination:      pulumi.String("true"),
			},
		},
		Monitoring:           &ec2.LaunchTemplateMonitoringArgs{Enabled: pulumi.Bool(!a.BasicMonitoring)}, // 1-minute metrics (CKV_AWS_126)
		EbsOptimized:         pulumi.String("true"),
		UserData:             encodeUserData(name, a.UserData),
		UpdateDefaultVersion: pulumi.Bool(true),
		TagSpecifications:    specs,
		Tags:                 tags.Named(a.Tags, name+"-lt"),
	}
}

// MaxSize is the group's size limit. A fixed group's is the configured maximum, raised to twice
// the desired capacity when that is more: a launch-before-terminate replacement (min healthy
// 100%, max healthy 200%) brings up to twice the desired capacity; AWS documents that percentage
// against desired capacity and an exception to the size limits only for rebalancing ("up to 10
// percent of its maximum capacity":
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-maintenance-policy-overview-and-considerations.html),
// so the limit must leave room, and no policy grows the group into it. A scaling group's is the
// configured maximum exactly, since its policies scale up to MaxSize: a rollout replaces within
// the room the group's size leaves under it (none while it sits at the ceiling: the at-max alarm).
func MaxSize(configured, desired int, scales bool) int {
	if scales {
		return configured
	}
	return max(configured, 2*desired)
}

// ignoredInputs are the group inputs an up leaves as AWS has them. The launch template moves
// only through a refresh (components/rollout). A scaling group's desired capacity is its
// policies' to set: the provider sends a configured value that differs from the live one on
// every update (desired_capacity is Optional and Computed, and resourceGroupUpdate sends it when
// it "HasChange": terraform-provider-aws internal/service/autoscaling/group.go at 00a919d), so a
// configured 2 would undo every scale-out (terraform-provider-aws #470). Pulumi resets an
// ignored path to its input from the last deployment before the provider diffs
// (processIgnoreChanges, pulumi pkg/resource/deploy/step_generator.go, v3.260.0).
func ignoredInputs(a *FleetArgs) []string {
	if a.Scaling != nil {
		return []string{"launchTemplate", "desiredCapacity"}
	}
	return []string{"launchTemplate"}
}

// encodeUserData base64-encodes the payload, failing the deployment (not truncating) when it is
// over EC2's limit. The payload may depend on other resources, so the check runs once it is known.
func encodeUserData(name string, ud pulumi.StringInput) pulumi.StringOutput {
	return ud.ToStringOutput().ApplyT(func(s string) (string, error) {
		if len(s) > MaxUserData {
			return "", fmt.Errorf("fleet %s: UserData is %d bytes; EC2 accepts at most %d", name, len(s), MaxUserData)
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	}).(pulumi.StringOutput)
}

func groupArgs(name string, a *FleetArgs, lt *ec2.LaunchTemplate) *autoscaling.GroupArgs {
	warmup := a.WarmupSeconds
	if warmup == 0 {
		warmup = DefaultWarmup
	}
	health := "EC2"
	if a.TargetGroupARNs != nil {
		health = "ELB" // an instance whose HAProxy fails the target group's check is replaced (CKV2_AWS_15)
	}
	var groupTags autoscaling.GroupTagArray
	named := tags.Named(a.Tags, name)
	for _, k := range slices.Sorted(maps.Keys(named)) {
		// The launch template tags instances and volumes; these tags are for the group itself.
		groupTags = append(groupTags, &autoscaling.GroupTagArgs{Key: pulumi.String(k), Value: named[k], PropagateAtLaunch: pulumi.Bool(false)})
	}
	return &autoscaling.GroupArgs{
		NamePrefix: pulumi.String(name + "-"),
		LaunchTemplate: &autoscaling.GroupLaunchTemplateArgs{
			Id: lt.ID(),
			// Pinned, never $Latest: a rollback can return only to a numbered version.
			Version: lt.LatestVersion.ApplyT(strconv.Itoa).(pulumi.StringOutput),
		},
		VpcZoneIdentifiers:     a.SubnetIDs,
		MinSize:                pulumi.Int(a.Min),
		MaxSize:                pulumi.Int(MaxSize(a.Max, a.Desired, a.Scaling != nil)),
		DesiredCapacity:        pulumi.Int(a.Desired),
		HealthCheckType:        pulumi.String(health),
		HealthCheckGracePeriod: pulumi.Int(warmup),
		DefaultInstanceWarmup:  pulumi.Int(warmup),
		TargetGroupArns:        a.TargetGroupARNs,
		MetricsGranularity:     pulumi.String("1Minute"),
		EnabledMetrics: pulumi.ToStringArray([]string{
			"GroupDesiredCapacity", "GroupInServiceInstances", "GroupMaxSize", "GroupMinSize",
			"GroupPendingInstances", "GroupTerminatingInstances", "GroupTotalInstances",
		}),
		// Replacements after a failed health check also launch first, like a refresh.
		InstanceMaintenancePolicy: &autoscaling.GroupInstanceMaintenancePolicyArgs{
			MinHealthyPercentage: pulumi.Int(MinHealthy),
			MaxHealthyPercentage: pulumi.Int(MaxHealthy),
		},
		// No instanceRefresh block: the provider would start a refresh of its own after setting
		// the new version on the group. components/rollout starts the only refresh.
		InitialLifecycleHooks: launchHooks(a.LaunchHook),
		Tags:                  groupTags,
	}
}

// launchHooks holds new instances in Pending:Wait until they report ready. An instance refresh
// counts only InService instances, so an old instance is not terminated (nor, on the eip edge,
// its address taken) on behalf of a replacement that never became ready: that one is abandoned.
func launchHooks(name string) autoscaling.GroupInitialLifecycleHookArray {
	if name == "" {
		return nil
	}
	return autoscaling.GroupInitialLifecycleHookArray{&autoscaling.GroupInitialLifecycleHookArgs{
		Name:                pulumi.String(name),
		LifecycleTransition: pulumi.String("autoscaling:EC2_INSTANCE_LAUNCHING"),
		DefaultResult:       pulumi.String("ABANDON"),
		HeartbeatTimeout:    pulumi.Int(LaunchHookTimeout),
	}}
}
