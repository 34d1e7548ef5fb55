package main

// A stand-in for the AWS CLI that keeps an Auto Scaling group's state in a JSON file: the test
// binary runs as `aws` when FAKE_AWS_STATE names that file (see TestMain). It answers the calls
// the rollout makes the way the EC2 Auto Scaling documentation describes them:
//   - StartInstanceRefresh refuses a second refresh beside one in progress
//     (InstanceRefreshInProgress) and AutoRollback without a DesiredConfiguration or with
//     $Latest/$Default (ValidationError), https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_StartInstanceRefresh.html;
//   - the group's own template changes only when the refresh succeeds ("Once the instance refresh
//     succeeds, Amazon EC2 Auto Scaling updates the settings of the Auto Scaling group to reflect
//     the new desired configuration", same page);
//   - a rollback replaces the new instances with ones of the configuration last saved on the
//     group, https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html,
//     after a failed replacement or when an alarm of the AlarmSpecification goes to ALARM.
// Each describe-instance-refreshes call moves the refresh in progress one step on.

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

type fakeRefresh struct {
	Refresh
	Desired      *Template
	Previous     *Template
	AutoRollback bool
	SkipMatching bool
	Alarms       []string
	Bake         int
}

type fakeState struct {
	Group     Group
	Refreshes []*fakeRefresh // newest first
	Alarms    map[string]string
	// Behaviour of new instances: healthy, unhealthy, alarm:NAME (NAME fires once they serve),
	// stuck (the refresh never progresses).
	Behaviour string
	Calls     []string
	Started   []map[string]any // every start-instance-refresh request
	FailCalls map[string]bool  // subcommands that fail
}

func loadFake(path string) (*fakeState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s fakeState
	return &s, json.Unmarshal(b, &s)
}

func (s *fakeState) save(path string) error {
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return err
	}
	// Written aside and renamed: the rollout's deadline kills a fake mid-call (exec.CommandContext),
	// and a half-written state would be a fault of the fake, not of the rollout.
	tmp := fmt.Sprintf("%s.%d", path, os.Getpid())
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// fakeAWS is the fake CLI's main: it prints JSON like the CLI, or an error and exit code 254.
func fakeAWS(path string, args []string) int {
	s, err := loadFake(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake aws:", err)
		return 255
	}
	out, code := s.call(args)
	if err := s.save(path); err != nil {
		fmt.Fprintln(os.Stderr, "fake aws:", err)
		return 255
	}
	if code != 0 {
		fmt.Fprintln(os.Stderr, out)
		return code
	}
	fmt.Println(out)
	return 0
}

func flagValues(args []string, name string) []string {
	for i, a := range args {
		if a == name {
			var vs []string
			for _, v := range args[i+1:] {
				if strings.HasPrefix(v, "--") {
					break
				}
				vs = append(vs, v)
			}
			return vs
		}
	}
	return nil
}

func asJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func (s *fakeState) active() *fakeRefresh {
	for _, r := range s.Refreshes {
		if !ended[r.Status] {
			return r
		}
	}
	return nil
}

func (s *fakeState) call(args []string) (string, int) {
	if len(args) < 2 {
		return "usage", 2
	}
	sub := args[1]
	s.Calls = append(s.Calls, sub)
	if s.FailCalls[sub] {
		return "An error occurred (Throttling) when calling " + sub, 254
	}
	switch sub {
	case "describe-auto-scaling-groups":
		return asJSON(map[string]any{"AutoScalingGroups": []Group{s.Group}}), 0
	case "describe-alarms":
		var found []map[string]string
		for _, n := range flagValues(args, "--alarm-names") {
			if st, ok := s.Alarms[n]; ok {
				found = append(found, map[string]string{"AlarmName": n, "StateValue": st})
			}
		}
		return asJSON(map[string]any{"MetricAlarms": found, "CompositeAlarms": []any{}}), 0
	case "start-instance-refresh":
		return s.start(flagValues(args, "--cli-input-json"))
	case "describe-instance-refreshes":
		// The answer is the state as of this call; time then moves the refresh on a step.
		defer func() {
			if r := s.active(); r != nil {
				s.step(r)
			}
		}()
		var list []Refresh
		ids := flagValues(args, "--instance-refresh-ids")
		for _, r := range s.Refreshes {
			if len(ids) == 0 || slices.Contains(ids, r.ID) {
				list = append(list, r.Refresh)
			}
		}
		return asJSON(map[string]any{"InstanceRefreshes": list}), 0
	case "rollback-instance-refresh":
		r := s.active()
		if r == nil || !r.AutoRollback && r.Desired == nil {
			return "An error occurred (ActiveInstanceRefreshNotFound) when calling the RollbackInstanceRefresh operation", 254
		}
		r.Status, r.StatusReason = "RollbackInProgress", "rollback requested by the caller"
		return asJSON(map[string]string{"InstanceRefreshId": r.ID}), 0
	}
	return "fake aws: no answer for " + sub, 2
}

var numbered = regexp.MustCompile(`^[1-9][0-9]*$`)

func (s *fakeState) start(in []string) (string, int) {
	if len(in) != 1 {
		return "An error occurred (ValidationError): --cli-input-json is required here", 254
	}
	var req struct {
		AutoScalingGroupName string
		DesiredConfiguration *struct{ LaunchTemplate *Template }
		Preferences          struct {
			AutoRollback       bool
			SkipMatching       bool
			BakeTime           int
			AlarmSpecification *struct{ Alarms []string }
		}
	}
	if err := json.Unmarshal([]byte(in[0]), &req); err != nil {
		return "An error occurred (ValidationError): " + err.Error(), 254
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(in[0]), &raw)
	s.Started = append(s.Started, raw)
	if r := s.active(); r != nil {
		return "An error occurred (InstanceRefreshInProgress) when calling the StartInstanceRefresh operation: An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.", 254
	}
	r := &fakeRefresh{Refresh: Refresh{ID: fmt.Sprintf("refresh-%d", len(s.Refreshes)+1), Status: "Pending"},
		AutoRollback: req.Preferences.AutoRollback, Bake: req.Preferences.BakeTime, Previous: s.Group.Template,
		SkipMatching: req.Preferences.SkipMatching}
	if req.DesiredConfiguration != nil {
		r.Desired = req.DesiredConfiguration.LaunchTemplate
	}
	if r.AutoRollback && (r.Desired == nil || !numbered.MatchString(r.Desired.Version)) {
		return "An error occurred (ValidationError): The AutoRollback parameter cannot be set to true when the DesiredConfiguration parameter is empty or uses $Latest or $Default.", 254
	}
	if a := req.Preferences.AlarmSpecification; a != nil {
		r.Alarms = a.Alarms
	}
	s.Refreshes = append([]*fakeRefresh{r}, s.Refreshes...)
	return asJSON(map[string]string{"InstanceRefreshId": r.ID}), 0
}

// step moves a refresh in progress one step on.
func (s *fakeState) step(r *fakeRefresh) {
	target := r.Desired
	if target == nil {
		target = s.Group.Template
	}
	switch r.Status {
	case "Pending":
		r.Status = "InProgress"
	case "RollbackInProgress", "Cancelling":
		for i := range s.Group.Instances {
			s.Group.Instances[i] = Instance{ID: fmt.Sprintf("i-back%d", i), Template: r.Previous, State: "InService", Health: "Healthy"}
		}
		r.Status = map[string]string{"RollbackInProgress": "RollbackSuccessful", "Cancelling": "Cancelled"}[r.Status]
	case "Baking":
		s.Group.Template = r.Desired
		r.Status, r.Percent = "Successful", 100
	case "InProgress":
		s.progress(r, target)
	}
}

func (s *fakeState) progress(r *fakeRefresh, target *Template) {
	if s.Behaviour == "stuck" {
		return
	}
	if name, ok := strings.CutPrefix(s.Behaviour, "alarm:"); ok && s.Alarms[name] != "ALARM" {
		s.Alarms[name] = "ALARM" // the new version serves and breaks traffic
		if slices.Contains(r.Alarms, name) {
			s.fail(r, "the alarm "+name+" went into the ALARM state")
			return
		}
	}
	for i, in := range s.Group.Instances {
		if in.Template != nil && *in.Template == *target && (r.SkipMatching || strings.HasPrefix(in.ID, "i-new")) {
			continue
		}
		if s.Behaviour == "unhealthy" {
			s.fail(r, "instance failed to pass its health checks")
			return
		}
		s.Group.Instances[i] = Instance{ID: fmt.Sprintf("i-new%d", i), Template: target, State: "InService", Health: "Healthy"}
		r.Percent = float64(100*(i+1)) / float64(len(s.Group.Instances))
		return
	}
	if r.Bake > 0 {
		r.Status = "Baking"
		return
	}
	s.Group.Template = r.Desired
	r.Status, r.Percent = "Successful", 100
}

func (s *fakeState) fail(r *fakeRefresh, reason string) {
	r.StatusReason = reason
	if r.AutoRollback {
		r.Status = "RollbackInProgress"
		return
	}
	r.Status = "Failed"
}
