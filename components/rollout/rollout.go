// Package rollout moves the fleet's Auto Scaling group to each new launch template version with
// an instance refresh the program starts itself (cmd/rollout, through pulumi-command), so that
// `pulumi up` waits for it and fails when it rolls back, and a rollback returns to the previous
// version. The group's own template stays as it was created; see NewRollout.
package rollout

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-command/sdk/go/command/local"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Command is what pulumi-command runs, from the project directory pulumi runs the program in
// (no dir: a checkout's path never reaches the state).
const Command = "go run ./cmd/rollout"

// RolloutArgs is the group, the version it should run, and how the refresh may proceed.
type RolloutArgs struct {
	GroupName             pulumi.StringInput
	LaunchTemplateID      pulumi.StringInput
	LaunchTemplateVersion pulumi.IntInput
	// Alarms roll the refresh back when one goes into ALARM while it runs or bakes.
	Alarms pulumi.StringArrayInput
	Region string
	// MinHealthy and MaxHealthy are percentages of desired capacity: 100 and 200 launch each
	// replacement before its predecessor goes.
	MinHealthy, MaxHealthy int
	// WarmupSeconds is how long a new instance takes to boot and pass its health gate.
	WarmupSeconds int
	// BakeSeconds is how long the alarms keep watching after the last replacement.
	BakeSeconds int
	// TimeoutMinutes bounds the refresh; past it the refresh is rolled back and `up` fails.
	TimeoutMinutes int
}

// Rollout is the refresh of one fleet.
type Rollout struct {
	pulumi.ResourceState
	// RefreshID is the refresh the last rollout started (empty when the group already ran the version).
	RefreshID pulumi.StringOutput `pulumi:"refreshId"`
}

func (a *RolloutArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.GroupName == nil || a.LaunchTemplateID == nil || a.LaunchTemplateVersion == nil || a.Alarms == nil:
		return errors.New("GroupName, LaunchTemplateID, LaunchTemplateVersion and Alarms are required")
	case a.Region == "":
		return errors.New("Region is required")
	case a.MinHealthy < 0 || a.MinHealthy > 100 || a.MaxHealthy < 100 || a.MaxHealthy > 200:
		return fmt.Errorf("MinHealthy must be 0-100 and MaxHealthy 100-200, got %d/%d", a.MinHealthy, a.MaxHealthy)
	case a.WarmupSeconds < 0 || a.BakeSeconds < 0 || a.TimeoutMinutes < 1:
		return errors.New("WarmupSeconds and BakeSeconds must not be negative, TimeoutMinutes must be positive")
	}
	return nil
}

// NewRollout runs cmd/rollout when the group is created and whenever an input changes: a new
// template version (or new alarms, or new preferences) is an update of this resource, visible in
// the preview as ROLLOUT_TEMPLATE_VERSION 3 → 4. The command exits non-zero when the refresh
// fails, is cancelled, rolls back or times out, which fails `pulumi up` with its reason ("A
// command is considered to have failed when it finished with a non-zero exit code. This will
// fail the CRUD step of the Command resource": pulumi-command v1.2.1, sdk/go/command/local/command.go).
func NewRollout(ctx *pulumi.Context, name string, args *RolloutArgs, opts ...pulumi.ResourceOption) (*Rollout, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("rollout %s: %w", name, err)
	}
	r := &Rollout{}
	if err := ctx.RegisterComponentResource("immutable-edge:rollout:Rollout", name, r, opts...); err != nil {
		return nil, err
	}
	version := args.LaunchTemplateVersion.ToIntOutput().ApplyT(strconv.Itoa).(pulumi.StringOutput)
	alarms := args.Alarms.ToStringArrayOutput().ApplyT(func(a []string) string { return strings.Join(a, ",") }).(pulumi.StringOutput)
	cmd, err := local.NewCommand(ctx, name+"-refresh", &local.CommandArgs{
		Create: pulumi.String(Command),
		Update: pulumi.String(Command),
		Environment: pulumi.StringMap{
			"ROLLOUT_GROUP":            args.GroupName,
			"ROLLOUT_TEMPLATE_ID":      args.LaunchTemplateID,
			"ROLLOUT_TEMPLATE_VERSION": version,
			"ROLLOUT_ALARMS":           alarms,
			"ROLLOUT_REGION":           pulumi.String(args.Region),
			"ROLLOUT_MIN_HEALTHY":      pulumi.String(strconv.Itoa(args.MinHealthy)),
			"ROLLOUT_MAX_HEALTHY":      pulumi.String(strconv.Itoa(args.MaxHealthy)),
			"ROLLOUT_WARMUP":           pulumi.String(strconv.Itoa(args.WarmupSeconds)),
			"ROLLOUT_BAKE":             pulumi.String(strconv.Itoa(args.BakeSeconds)),
			"ROLLOUT_TIMEOUT":          pulumi.String(strconv.Itoa(args.TimeoutMinutes) + "m"),
		},
	}, pulumi.Parent(r))
	if err != nil {
		return nil, fmt.Errorf("rollout %s: %w", name, err)
	}
	r.RefreshID = cmd.Stdout.ApplyT(strings.TrimSpace).(pulumi.StringOutput)
	return r, ctx.RegisterResourceOutputs(r, pulumi.Map{"refreshId": r.RefreshID})
}
