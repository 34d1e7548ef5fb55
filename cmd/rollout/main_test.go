package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	if path := os.Getenv("FAKE_AWS_STATE"); path != "" {
		os.Exit(fakeAWS(path, os.Args[1:]))
	}
	os.Exit(m.Run())
}

var (
	v1 = &Template{ID: "lt-0123456789abcdef0", Version: "1"}
	v2 = &Template{ID: "lt-0123456789abcdef0", Version: "2"}
)

const (
	alarm5xx       = "prod-http-5xx"
	alarmUnhealthy = "prod-unhealthy-hosts"
)

// group returns a fake group of n instances, all on t.
func group(t *Template, n int) Group {
	g := Group{Name: "prod-asg-1", Template: t}
	for i := range n {
		g.Instances = append(g.Instances, Instance{ID: "i-old" + string(rune('0'+i)), Template: t, State: "InService", Health: "Healthy"})
	}
	return g
}

type outcome struct {
	code           int
	stdout, stderr string
	state          *fakeState
}

// rollout runs the command against the fake with the given starting state and extra flags.
func rollout(t *testing.T, s *fakeState, flags ...string) outcome {
	t.Helper()
	if s.Alarms == nil {
		s.Alarms = map[string]string{alarm5xx: "OK", alarmUnhealthy: "INSUFFICIENT_DATA"}
	}
	path := filepath.Join(t.TempDir(), "state.json")
	require.NoError(t, s.save(path))
	t.Setenv("FAKE_AWS_STATE", path)
	env := map[string]string{
		"ROLLOUT_GROUP": "prod-asg-1", "ROLLOUT_TEMPLATE_ID": v2.ID, "ROLLOUT_TEMPLATE_VERSION": v2.Version,
		"ROLLOUT_ALARMS": alarm5xx + "," + alarmUnhealthy, "ROLLOUT_INTERVAL": "1ms", "ROLLOUT_BAKE": "60",
	}
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"-aws", os.Args[0]}, flags...), func(k string) string { return env[k] }, &stdout, &stderr)
	got, err := loadFake(path)
	require.NoError(t, err)
	return outcome{code, stdout.String(), stderr.String(), got}
}

// onVersion requires the group and every instance to be on t: a rollout never leaves the group
// pointed at a version whose refresh failed.
func onVersion(t *testing.T, s *fakeState, want *Template) {
	t.Helper()
	require.Equal(t, want, s.Group.Template, "the group's template")
	for _, in := range s.Group.Instances {
		require.Equal(t, want, in.Template, "instance %s", in.ID)
	}
}

func TestSuccessPutsTheGroupOnTheNewVersion(t *testing.T) {
	o := rollout(t, &fakeState{Group: group(v1, 2), Behaviour: "healthy"})
	require.Equal(t, 0, o.code, o.stderr)
	onVersion(t, o.state, v2)
	require.Equal(t, "refresh-1\n", o.stdout)
	require.Len(t, o.state.Started, 1)
	req := o.state.Started[0]
	require.Equal(t, map[string]any{"LaunchTemplate": map[string]any{"LaunchTemplateId": v2.ID, "Version": "2"}}, req["DesiredConfiguration"])
	prefs := req["Preferences"].(map[string]any)
	require.Equal(t, true, prefs["AutoRollback"])
	require.Equal(t, true, prefs["SkipMatching"])
	require.EqualValues(t, 100, prefs["MinHealthyPercentage"])
	require.EqualValues(t, 60, prefs["BakeTime"])
	require.Equal(t, map[string]any{"Alarms": []any{alarm5xx, alarmUnhealthy}}, prefs["AlarmSpecification"])
}

func TestFailuresRollTheGroupBackToThePreviousVersion(t *testing.T) {
	for _, tc := range []struct {
		name, behaviour, reason string
	}{
		{"an unhealthy instance", "unhealthy", "health checks"},
		{"an alarm of the specification", "alarm:" + alarm5xx, alarm5xx},
		{"the other alarm", "alarm:" + alarmUnhealthy, alarmUnhealthy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := rollout(t, &fakeState{Group: group(v1, 2), Behaviour: tc.behaviour})
			require.Equal(t, 1, o.code, o.stderr)
			onVersion(t, o.state, v1)
			require.Contains(t, o.stderr, "ended RollbackSuccessful")
			require.Contains(t, o.stderr, tc.reason)
			require.Contains(t, o.stderr, "stays on lt-0123456789abcdef0 version 1")
		})
	}
}

func TestAnAlarmOutsideTheSpecificationDoesNotRollBack(t *testing.T) {
	// Mutation check on the wiring: without the alarm in ROLLOUT_ALARMS, the broken version stays.
	o := rollout(t, &fakeState{Group: group(v1, 2), Behaviour: "alarm:" + alarm5xx}, "-alarms", alarmUnhealthy)
	require.Equal(t, 0, o.code, o.stderr)
	onVersion(t, o.state, v2)
}

func TestATimeoutRollsBackAndFails(t *testing.T) {
	o := rollout(t, &fakeState{Group: group(v1, 2), Behaviour: "stuck"}, "-timeout", "50ms")
	require.Equal(t, 1, o.code, o.stderr)
	require.Contains(t, o.state.Calls, "rollback-instance-refresh")
	require.Contains(t, o.stderr, "timed out")
	onVersion(t, o.state, v1)
}

func TestAnEarlierRunsRefreshNeverDecides(t *testing.T) {
	old := func(status, reason string) *fakeRefresh {
		return &fakeRefresh{Refresh: Refresh{ID: "refresh-old", Status: status, StatusReason: reason}, Desired: v1, Previous: v1, AutoRollback: true}
	}
	t.Run("an old rollback does not fail a good rollout", func(t *testing.T) {
		o := rollout(t, &fakeState{Group: group(v1, 2), Behaviour: "healthy", Refreshes: []*fakeRefresh{old("RollbackSuccessful", "alarm")}})
		require.Equal(t, 0, o.code, o.stderr)
		onVersion(t, o.state, v2)
	})
	t.Run("an old success does not hide a failed rollout", func(t *testing.T) {
		o := rollout(t, &fakeState{Group: group(v1, 2), Behaviour: "unhealthy", Refreshes: []*fakeRefresh{old("Successful", "")}})
		require.Equal(t, 1, o.code, o.stderr)
		onVersion(t, o.state, v1)
	})
	t.Run("an old success does not stand in for a rollout that never started", func(t *testing.T) {
		s := &fakeState{Group: group(v1, 2), Behaviour: "healthy", Refreshes: []*fakeRefresh{old("Successful", "")}, FailCalls: map[string]bool{"start-instance-refresh": true}}
		o := rollout(t, s)
		require.Equal(t, 2, o.code, o.stderr)
		require.Contains(t, o.stderr, "starting the instance refresh")
		onVersion(t, o.state, v1)
	})
	t.Run("a refresh still in progress is waited out, then this one runs", func(t *testing.T) {
		running := &fakeRefresh{Refresh: Refresh{ID: "refresh-old", Status: "InProgress"}, Desired: v1, Previous: v1, AutoRollback: true}
		o := rollout(t, &fakeState{Group: group(v1, 2), Behaviour: "healthy", Refreshes: []*fakeRefresh{running}})
		require.Equal(t, 0, o.code, o.stderr)
		require.Contains(t, o.stderr, "refresh refresh-old of an earlier run is InProgress")
		require.Equal(t, "refresh-2\n", o.stdout)
		onVersion(t, o.state, v2)
	})
}

func TestNothingToRollOut(t *testing.T) {
	o := rollout(t, &fakeState{Group: group(v2, 2), Behaviour: "healthy"})
	require.Equal(t, 0, o.code, o.stderr)
	require.Empty(t, o.state.Started)
	require.Equal(t, "\n", o.stdout)

	// A group on the version with an instance still on the old one (an earlier run timed out
	// mid-way) is refreshed again.
	g := group(v2, 2)
	g.Instances[1].Template = v1
	o = rollout(t, &fakeState{Group: g, Behaviour: "healthy"})
	require.Equal(t, 0, o.code, o.stderr)
	require.Len(t, o.state.Started, 1)
	onVersion(t, o.state, v2)
}

// TestReplaceRollsEveryInstanceOnTheSameVersion: -replace (a rotated secret) refreshes a group
// that runs the version already, every instance, with the same alarms and rollback.
func TestReplaceRollsEveryInstanceOnTheSameVersion(t *testing.T) {
	o := rollout(t, &fakeState{Group: group(v2, 2), Behaviour: "healthy"}, "-replace")
	require.Equal(t, 0, o.code, o.stderr)
	require.Len(t, o.state.Started, 1)
	prefs := o.state.Started[0]["Preferences"].(map[string]any)
	require.Equal(t, false, prefs["SkipMatching"])
	require.Equal(t, true, prefs["AutoRollback"])
	require.Equal(t, map[string]any{"Alarms": []any{alarm5xx, alarmUnhealthy}}, prefs["AlarmSpecification"])
	onVersion(t, o.state, v2)
	for _, in := range o.state.Group.Instances {
		require.True(t, strings.HasPrefix(in.ID, "i-new"), "%s was kept", in.ID)
	}
}

func TestAnAlarmAlreadyFiringIsLeftOutSoAFixCanShip(t *testing.T) {
	s := &fakeState{Group: group(v1, 2), Behaviour: "healthy", Alarms: map[string]string{alarm5xx: "ALARM", alarmUnhealthy: "OK"}}
	o := rollout(t, s)
	require.Equal(t, 0, o.code, o.stderr)
	require.Contains(t, o.stderr, "alarm "+alarm5xx+" is already in ALARM")
	prefs := o.state.Started[0]["Preferences"].(map[string]any)
	require.Equal(t, map[string]any{"Alarms": []any{alarmUnhealthy}}, prefs["AlarmSpecification"])
	onVersion(t, o.state, v2)
}

func TestBadInputAndCLIFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
		fail  string
		want  string
	}{
		{"$Latest cannot roll back", []string{"-template-version", "$Latest"}, "", "-template-version"},
		{"not a template id", []string{"-template-id", "my-template"}, "", "-template-id"},
		{"a percentage out of range", []string{"-max-healthy", "250"}, "", "-max-healthy"},
		{"a missing alarm", []string{"-alarms", "no-such-alarm"}, "", "alarm no-such-alarm does not exist"},
		{"the CLI fails", nil, "describe-auto-scaling-groups", "Throttling"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &fakeState{Group: group(v1, 2), Behaviour: "healthy", FailCalls: map[string]bool{tc.fail: true}}
			o := rollout(t, s, tc.flags...)
			require.Equal(t, 2, o.code, o.stderr)
			require.Contains(t, o.stderr, tc.want)
			require.Empty(t, o.state.Started)
			require.Equal(t, 1, strings.Count(o.stderr, "rollout:"), "one error line")
		})
	}
}
