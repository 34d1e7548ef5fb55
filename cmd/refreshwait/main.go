// Command refreshwait waits for the newest instance refresh of an Auto Scaling group to end and
// fails unless it succeeded: the deploy workflow runs it after `pulumi up`, because up returns
// as soon as AWS accepts the refresh, long before the new instances serve.
//
//	refreshwait -group NAME [-region R] [-timeout 45m] [-interval 15s]
//
// It asks the AWS CLI (describe-instance-refreshes), so it needs nothing but the CLI and the
// caller's credentials. Exit codes: 0 the refresh succeeded (or the group never had one), 1 it
// failed, was cancelled or rolled back, or the time ran out, 2 bad flags or the CLI failed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// Refresh is the part of an instance refresh the wait reads.
type Refresh struct {
	ID           string  `json:"InstanceRefreshId"`
	Status       string  `json:"Status"`
	StatusReason string  `json:"StatusReason"`
	Percent      float64 `json:"PercentageComplete"`
}

// Statuses that end a refresh. Every other status (Pending, InProgress, Cancelling, Baking,
// RollbackInProgress) means wait.
var (
	succeeded = map[string]bool{"Successful": true}
	failed    = map[string]bool{"Failed": true, "Cancelled": true, "RollbackSuccessful": true, "RollbackFailed": true}
)

// errTimeout: the refresh was still running at the deadline. errCLI: the AWS CLI failed.
var (
	errTimeout = errors.New("timed out")
	errCLI     = errors.New("AWS CLI")
)

// Describe returns the group's newest refresh, or nil when it never had one.
type Describe func(ctx context.Context) (*Refresh, error)

// Wait polls until the newest refresh ends or ctx is done, reporting each change of state.
func Wait(ctx context.Context, describe Describe, interval time.Duration, report io.Writer) (*Refresh, error) {
	last := ""
	for {
		r, err := describe(ctx)
		if err != nil {
			if ctx.Err() != nil { // the deadline cut the call short
				return nil, fmt.Errorf("waiting for the refresh: %w", errTimeout)
			}
			return nil, err
		}
		if r == nil {
			fmt.Fprintln(report, "no instance refresh: nothing to wait for")
			return nil, nil
		}
		if now := fmt.Sprintf("%s %s %.0f%%", r.ID, r.Status, r.Percent); now != last {
			fmt.Fprintf(report, "refresh %s: %s, %.0f%% %s\n", r.ID, r.Status, r.Percent, r.StatusReason)
			last = now
		}
		switch {
		case succeeded[r.Status]:
			return r, nil
		case failed[r.Status]:
			return r, fmt.Errorf("instance refresh %s ended %s: %s", r.ID, r.Status, r.StatusReason)
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("instance refresh %s still %s: %w", r.ID, r.Status, errTimeout)
		case <-time.After(interval):
		}
	}
}

// cliDescribe asks the AWS CLI for the group's newest refresh.
func cliDescribe(aws, group, region string) Describe {
	return func(ctx context.Context) (*Refresh, error) {
		args := []string{"autoscaling", "describe-instance-refreshes", "--auto-scaling-group-name", group,
			"--max-records", "1", "--output", "json"}
		if region != "" {
			args = append(args, "--region", region)
		}
		out, err := exec.CommandContext(ctx, aws, args...).Output()
		if err != nil {
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				return nil, fmt.Errorf("%w: %s: %w: %s", errCLI, args[1], err, exit.Stderr)
			}
			return nil, fmt.Errorf("%w: %s: %w", errCLI, args[1], err)
		}
		var resp struct {
			InstanceRefreshes []Refresh `json:"InstanceRefreshes"`
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			return nil, fmt.Errorf("%w: %s: unexpected output: %w", errCLI, args[1], err)
		}
		if len(resp.InstanceRefreshes) == 0 {
			return nil, nil
		}
		return &resp.InstanceRefreshes[0], nil
	}
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("refreshwait", flag.ContinueOnError)
	fs.SetOutput(stderr)
	group := fs.String("group", "", "Auto Scaling group name (the stack's asgName output)")
	region := fs.String("region", "", "AWS region (default: the CLI's)")
	timeout := fs.Duration("timeout", 45*time.Minute, "how long to wait in all")
	interval := fs.Duration("interval", 15*time.Second, "time between polls")
	aws := fs.String("aws", "aws", "the AWS CLI")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *group == "" || *timeout <= 0 || *interval <= 0 {
		fmt.Fprintln(stderr, "refreshwait: -group is required; -timeout and -interval must be positive")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	_, err := Wait(ctx, cliDescribe(*aws, *group, *region), *interval, stdout)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errTimeout):
		fmt.Fprintf(stderr, "refreshwait: %v after %s\n", err, *timeout)
		return 1
	case errors.Is(err, errCLI):
		fmt.Fprintf(stderr, "refreshwait: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "refreshwait: %v\n", err)
		return 1
	}
}
