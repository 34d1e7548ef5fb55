package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// errCLI marks a failure of the AWS CLI itself (not of the rollout): exit code 2.
var errCLI = errors.New("AWS CLI")

// errInProgress is StartInstanceRefresh's InstanceRefreshInProgress fault: another refresh runs.
var errInProgress = errors.New("an instance refresh is already in progress")

// Template is a launch template version as the group and a refresh name it.
type Template struct {
	ID      string `json:"LaunchTemplateId"`
	Version string `json:"Version"`
}

// Instance is one member of the group.
type Instance struct {
	ID       string    `json:"InstanceId"`
	Template *Template `json:"LaunchTemplate"`
	State    string    `json:"LifecycleState"`
	Health   string    `json:"HealthStatus"`
}

// Group is the part of an Auto Scaling group the rollout reads.
type Group struct {
	Name      string     `json:"AutoScalingGroupName"`
	Template  *Template  `json:"LaunchTemplate"`
	Instances []Instance `json:"Instances"`
}

// Refresh is the part of an instance refresh the rollout reads.
type Refresh struct {
	ID           string  `json:"InstanceRefreshId"`
	Status       string  `json:"Status"`
	StatusReason string  `json:"StatusReason"`
	Percent      float64 `json:"PercentageComplete"`
}

// Spec is what one rollout asks for: the group, the template version it should run, and how.
type Spec struct {
	Group      string
	Template   Template
	Alarms     []string
	MinHealthy int // percent of desired capacity kept in service
	MaxHealthy int // percent of desired capacity allowed during replacement
	Warmup     int // seconds until a new instance counts
	Bake       int // seconds to wait after the last replacement, alarms still watched
	// Replace replaces every instance, those already on the version too: what rolls out a
	// rotated secret, which instances read only when they start.
	Replace bool
}

// API is the Auto Scaling and CloudWatch calls the rollout makes.
type API interface {
	Group(ctx context.Context, name string) (*Group, error)
	// Active returns the group's refresh that has not ended, or nil.
	Active(ctx context.Context, group string) (*Refresh, error)
	Refresh(ctx context.Context, group, id string) (*Refresh, error)
	Start(ctx context.Context, s Spec) (string, error)
	Rollback(ctx context.Context, group string) error
	// AlarmStates maps each named alarm that exists to its state (OK, ALARM, INSUFFICIENT_DATA).
	AlarmStates(ctx context.Context, names []string) (map[string]string, error)
}

// cli is API through the AWS CLI, so the rollout needs nothing but the CLI and credentials.
type cli struct {
	aws, region string
}

func (c cli) run(ctx context.Context, out any, args ...string) error {
	if c.region != "" {
		args = append(args, "--region", c.region)
	}
	args = append(args, "--output", "json")
	b, err := exec.CommandContext(ctx, c.aws, args...).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			msg := strings.TrimSpace(string(exit.Stderr))
			if strings.Contains(msg, "InstanceRefreshInProgress") {
				return fmt.Errorf("%w: %s", errInProgress, msg)
			}
			return fmt.Errorf("%w: %s: %w: %s", errCLI, args[1], err, msg)
		}
		return fmt.Errorf("%w: %s: %w", errCLI, args[1], err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%w: %s: unexpected output: %w", errCLI, args[1], err)
	}
	return nil
}

func (c cli) Group(ctx context.Context, name string) (*Group, error) {
	var resp struct{ AutoScalingGroups []Group }
	if err := c.run(ctx, &resp, "autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", name); err != nil {
		return nil, err
	}
	if len(resp.AutoScalingGroups) != 1 {
		return nil, fmt.Errorf("%w: no Auto Scaling group %s", errCLI, name)
	}
	return &resp.AutoScalingGroups[0], nil
}

// ended are the statuses after which a refresh changes nothing more
// (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceRefresh.html).
var ended = map[string]bool{"Successful": true, "Failed": true, "Cancelled": true, "RollbackSuccessful": true, "RollbackFailed": true}

func (c cli) Active(ctx context.Context, group string) (*Refresh, error) {
	var resp struct{ InstanceRefreshes []Refresh }
	// Newest first; a group has at most one refresh that has not ended.
	if err := c.run(ctx, &resp, "autoscaling", "describe-instance-refreshes", "--auto-scaling-group-name", group, "--max-records", "10"); err != nil {
		return nil, err
	}
	for _, r := range resp.InstanceRefreshes {
		if !ended[r.Status] {
			return &r, nil
		}
	}
	return nil, nil
}

func (c cli) Refresh(ctx context.Context, group, id string) (*Refresh, error) {
	var resp struct{ InstanceRefreshes []Refresh }
	if err := c.run(ctx, &resp, "autoscaling", "describe-instance-refreshes", "--auto-scaling-group-name", group, "--instance-refresh-ids", id); err != nil {
		return nil, err
	}
	for _, r := range resp.InstanceRefreshes {
		if r.ID == id {
			return &r, nil
		}
	}
	return nil, fmt.Errorf("%w: refresh %s of %s not found", errCLI, id, group)
}

// startInput is StartInstanceRefresh's request
// (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_StartInstanceRefresh.html).
func startInput(s Spec) map[string]any {
	prefs := map[string]any{
		"MinHealthyPercentage": s.MinHealthy,
		"MaxHealthyPercentage": s.MaxHealthy,
		"InstanceWarmup":       s.Warmup,
		"BakeTime":             s.Bake,
		// Instances already on the version are kept, unless the rollout is to replace them all
		// (SkipMatching: https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html).
		"SkipMatching": !s.Replace,
		// Rollback needs a DesiredConfiguration with a numbered version; the group keeps the
		// previous one until the refresh succeeds, which is what the rollback returns to.
		"AutoRollback": true,
	}
	if len(s.Alarms) > 0 {
		prefs["AlarmSpecification"] = map[string]any{"Alarms": s.Alarms}
	}
	return map[string]any{
		"AutoScalingGroupName": s.Group,
		"Strategy":             "Rolling",
		"DesiredConfiguration": map[string]any{"LaunchTemplate": map[string]any{
			"LaunchTemplateId": s.Template.ID, "Version": s.Template.Version,
		}},
		"Preferences": prefs,
	}
}

func (c cli) Start(ctx context.Context, s Spec) (string, error) {
	in, err := json.Marshal(startInput(s))
	if err != nil {
		return "", err
	}
	var resp struct{ InstanceRefreshId string }
	if err := c.run(ctx, &resp, "autoscaling", "start-instance-refresh", "--cli-input-json", string(in)); err != nil {
		return "", err
	}
	if resp.InstanceRefreshId == "" {
		return "", fmt.Errorf("%w: start-instance-refresh returned no id", errCLI)
	}
	return resp.InstanceRefreshId, nil
}

func (c cli) Rollback(ctx context.Context, group string) error {
	return c.run(ctx, nil, "autoscaling", "rollback-instance-refresh", "--auto-scaling-group-name", group)
}

func (c cli) AlarmStates(ctx context.Context, names []string) (map[string]string, error) {
	var resp struct {
		MetricAlarms []struct{ AlarmName, StateValue string }
	}
	args := append([]string{"cloudwatch", "describe-alarms", "--alarm-names"}, names...)
	if err := c.run(ctx, &resp, args...); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, a := range resp.MetricAlarms {
		out[a.AlarmName] = a.StateValue
	}
	return out, nil
}
