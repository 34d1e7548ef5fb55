package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// errTimeout: the refresh was still running at the deadline. errRolledBack: the refresh this
// rollout started did not succeed; the group stayed on (or returned to) its previous version.
var (
	errTimeout    = errors.New("timed out")
	errRolledBack = errors.New("the rollout did not succeed")
)

// Waits is how a rollout polls: Timeout for the refresh (counted from its start, and again for
// an earlier refresh it waits out), Interval between describes, Grace for the rollback that
// follows a timeout, Retries for describe calls that fail in a row before the rollout gives up.
type Waits struct {
	Timeout, Interval, Grace time.Duration
	Retries                  int
}

// Rollout moves the group to s.Template with an instance refresh it starts itself and waits for
// that refresh, by its id, to end. The group's own template stays on the previous version
// until the refresh succeeds (AWS updates it then: DesiredConfiguration in
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_StartInstanceRefresh.html), so a
// failure, an alarm or a timeout rolls the instances back to that version
// (https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html).
// A refresh that an earlier run left behind is waited out first and never decides this one.
func Rollout(ctx context.Context, api API, s Spec, w Waits, report io.Writer) (string, error) {
	settled, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	if err := settle(settled, api, s.Group, w, report); err != nil {
		return "", err
	}
	g, err := api.Group(ctx, s.Group)
	if err != nil {
		return "", err
	}
	if runs(g, s.Template) && !s.Replace {
		fmt.Fprintf(report, "%s already runs %s version %s on every instance: nothing to roll out\n", s.Group, s.Template.ID, s.Template.Version)
		return "", nil
	}
	if s.Alarms, err = watchable(ctx, api, s.Alarms, report); err != nil {
		return "", err
	}
	id, err := api.Start(ctx, s)
	if err != nil {
		return "", fmt.Errorf("starting the instance refresh of %s: %w", s.Group, err)
	}
	from := "none"
	if g.Template != nil {
		from = g.Template.Version
	}
	fmt.Fprintf(report, "refresh %s: %s version %s → %s, rollback on %v\n", id, s.Group, from, s.Template.Version, s.Alarms)
	running, stop := context.WithTimeout(ctx, w.Timeout)
	defer stop()
	r, err := follow(running, api, s.Group, id, w, report)
	if errors.Is(err, errTimeout) {
		return id, abandon(api, s.Group, id, w, report, err)
	}
	if err != nil {
		return id, err
	}
	if r.Status != "Successful" {
		return id, fmt.Errorf("%w: instance refresh %s ended %s: %s%s", errRolledBack, id, r.Status, r.StatusReason, where(ctx, api, s.Group))
	}
	if g, err = api.Group(ctx, s.Group); err != nil {
		return id, err
	}
	if g.Template == nil || *g.Template != s.Template {
		return id, fmt.Errorf("%w: instance refresh %s succeeded but %s is on %v, not %v", errRolledBack, id, s.Group, g.Template, s.Template)
	}
	return id, nil
}

// runs reports whether the group and all of its instances are on the template version.
func runs(g *Group, t Template) bool {
	if g.Template == nil || *g.Template != t {
		return false
	}
	return !slices.ContainsFunc(g.Instances, func(i Instance) bool { return i.Template == nil || *i.Template != t })
}

// settle waits out a refresh an earlier run left in progress: one cannot start beside it, and
// its outcome belongs to that run.
func settle(ctx context.Context, api API, group string, w Waits, report io.Writer) error {
	r, err := api.Active(ctx, group)
	if err != nil || r == nil {
		return err
	}
	fmt.Fprintf(report, "refresh %s of an earlier run is %s: waiting for it to end; it does not decide this rollout\n", r.ID, r.Status)
	_, err = follow(ctx, api, group, r.ID, w, report)
	if errors.Is(err, errTimeout) {
		return fmt.Errorf("the earlier refresh %s did not end in time: %w", r.ID, err)
	}
	return err
}

// watchable keeps the alarms that can judge this rollout. An alarm already in ALARM would fail
// the refresh before it replaced anything, so a fix for what it reports could never ship: it is
// left out, loudly. A name that does not exist is a wiring error.
func watchable(ctx context.Context, api API, alarms []string, report io.Writer) ([]string, error) {
	if len(alarms) == 0 {
		return nil, nil
	}
	states, err := api.AlarmStates(ctx, alarms)
	if err != nil {
		return nil, err
	}
	var keep []string
	for _, a := range alarms {
		switch s, ok := states[a]; {
		case !ok:
			return nil, fmt.Errorf("alarm %s does not exist", a)
		case s == "ALARM":
			fmt.Fprintf(report, "WARNING: alarm %s is already in ALARM: it cannot judge this rollout and is left out of its rollback alarms\n", a)
		default:
			keep = append(keep, a)
		}
	}
	return keep, nil
}

// follow polls one refresh, by id, until it ends or ctx is done, reporting each change.
func follow(ctx context.Context, api API, group, id string, w Waits, report io.Writer) (*Refresh, error) {
	last, failures := "", 0
	for {
		r, err := api.Refresh(ctx, group, id)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, fmt.Errorf("instance refresh %s: %w", id, errTimeout)
		case err != nil && failures < w.Retries:
			failures++
			fmt.Fprintf(report, "describing refresh %s failed (%d of %d): %v\n", id, failures, w.Retries, err)
		case err != nil:
			return nil, err
		default:
			failures = 0
			if now := fmt.Sprintf("%s %.0f", r.Status, r.Percent); now != last {
				fmt.Fprintf(report, "refresh %s: %s, %.0f%% %s\n", id, r.Status, r.Percent, r.StatusReason)
				last = now
			}
			if ended[r.Status] {
				return r, nil
			}
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("instance refresh %s still running: %w", id, errTimeout)
		case <-time.After(w.Interval):
		}
	}
}

// abandon rolls back a refresh that ran out of time, so the group does not go on to a version
// nobody is watching, and waits (for w.Grace) until the rollback ends.
func abandon(api API, group, id string, w Waits, report io.Writer, cause error) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.Grace)
	defer cancel()
	fmt.Fprintf(report, "refresh %s ran out of time: rolling it back\n", id)
	if err := api.Rollback(ctx, group); err != nil {
		return fmt.Errorf("%w; rolling it back failed: %w", cause, err)
	}
	r, err := follow(ctx, api, group, id, w, report)
	if err != nil {
		return fmt.Errorf("%w; the rollback: %w", cause, err)
	}
	return fmt.Errorf("%w: %w; the rollback ended %s%s", errRolledBack, cause, r.Status, where(ctx, api, group))
}

// where says which version the group is on, for the failure message.
func where(ctx context.Context, api API, group string) string {
	g, err := api.Group(ctx, group)
	if err != nil || g.Template == nil {
		return ""
	}
	return fmt.Sprintf("; %s stays on %s version %s", group, g.Template.ID, g.Template.Version)
}
