// Command rollout moves an Auto Scaling group to a launch template version with an instance
// refresh that it starts itself, and waits for that refresh to end. `pulumi up` runs it
// (components/rollout, through pulumi-command) whenever the template gets a new version, so
// one command deploys, waits, and fails when the rollout rolls back.
//
// The group's own template version is left alone by Pulumi after creation: the AWS provider
// would set it before starting its own refresh (terraform-provider-aws #34189), and a rollback
// would then return to the new, failing version. Here the version travels only in the
// refresh's DesiredConfiguration, which AWS writes to the group once the refresh succeeds.
//
//	rollout -group NAME -template-id lt-… -template-version N [-alarms a,b] [-region R]
//	        [-min-healthy 100] [-max-healthy 200] [-warmup S] [-bake S] [-timeout 45m] [-replace]
//
// -replace replaces every instance, those already on the version too, with the same alarms
// and rollback: the way to roll out a rotated secret (README, "Environment and secrets").
//
// Every flag defaults to its ROLLOUT_* environment variable (ROLLOUT_GROUP, ROLLOUT_TEMPLATE_ID,
// …), which is how pulumi-command passes them. Progress goes to stderr; stdout gets one line, the
// refresh id (empty when there was nothing to roll out). Exit codes: 0 the group runs the
// version, 1 the refresh failed, was cancelled, rolled back or timed out (then it is rolled
// back), 2 bad flags or the AWS CLI failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func main() { os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr)) }

var (
	templateRE = regexp.MustCompile(`^lt-[0-9a-f]{8,17}$`)
	versionRE  = regexp.MustCompile(`^[1-9][0-9]*$`) // a numbered version: rollback needs one
)

type options struct {
	spec          Spec
	alarms        string
	region, aws   string
	waits         Waits
	minH, maxH    string
	warmup, bake  string
	version, tmpl string
}

func parse(args []string, env func(string) string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("rollout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	str := func(p *string, name, envName, def, usage string) {
		v := env(envName)
		if v == "" {
			v = def
		}
		fs.StringVar(p, name, v, usage+" ($"+envName+")")
	}
	str(&o.spec.Group, "group", "ROLLOUT_GROUP", "", "Auto Scaling group name")
	str(&o.tmpl, "template-id", "ROLLOUT_TEMPLATE_ID", "", "launch template id")
	str(&o.version, "template-version", "ROLLOUT_TEMPLATE_VERSION", "", "launch template version (a number)")
	str(&o.alarms, "alarms", "ROLLOUT_ALARMS", "", "comma-separated CloudWatch alarms that roll the refresh back")
	str(&o.region, "region", "ROLLOUT_REGION", "", "AWS region (default: the CLI's)")
	str(&o.minH, "min-healthy", "ROLLOUT_MIN_HEALTHY", "100", "minimum healthy percentage")
	str(&o.maxH, "max-healthy", "ROLLOUT_MAX_HEALTHY", "200", "maximum healthy percentage")
	str(&o.warmup, "warmup", "ROLLOUT_WARMUP", "180", "instance warmup, seconds")
	str(&o.bake, "bake", "ROLLOUT_BAKE", "300", "bake time after the last replacement, seconds")
	timeout, interval := env("ROLLOUT_TIMEOUT"), env("ROLLOUT_INTERVAL")
	fs.Func("timeout", "how long the refresh may take (default 45m) ($ROLLOUT_TIMEOUT)", func(s string) error { timeout = s; return nil })
	fs.Func("interval", "time between polls (default 15s) ($ROLLOUT_INTERVAL)", func(s string) error { interval = s; return nil })
	fs.StringVar(&o.aws, "aws", "aws", "the AWS CLI")
	fs.BoolVar(&o.spec.Replace, "replace", env("ROLLOUT_REPLACE") == "true", "replace every instance, also those already on the version: a rotated secret ($ROLLOUT_REPLACE)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var bad []string
	durations := []struct {
		name, v, def string
		p            *time.Duration
	}{{"timeout", timeout, "45m", &o.waits.Timeout}, {"interval", interval, "15s", &o.waits.Interval}}
	for _, d := range durations {
		if d.v == "" {
			d.v = d.def
		}
		if v, err := time.ParseDuration(d.v); err != nil || v <= 0 {
			bad = append(bad, fmt.Sprintf("-%s %q is not a positive duration", d.name, d.v))
		} else {
			*d.p = v
		}
	}
	ints := []struct {
		name, v  string
		lo, hi   int
		p        *int
		describe string
	}{
		{"min-healthy", o.minH, 0, 100, &o.spec.MinHealthy, "a percentage 0-100"},
		{"max-healthy", o.maxH, 100, 200, &o.spec.MaxHealthy, "a percentage 100-200"},
		{"warmup", o.warmup, 0, 3600, &o.spec.Warmup, "0-3600 seconds"},
		{"bake", o.bake, 0, 172800, &o.spec.Bake, "0-172800 seconds"},
	}
	for _, n := range ints {
		if v, err := strconv.Atoi(n.v); err != nil || v < n.lo || v > n.hi {
			bad = append(bad, fmt.Sprintf("-%s %q is not %s", n.name, n.v, n.describe))
		} else {
			*n.p = v
		}
	}
	if o.spec.Group == "" {
		bad = append(bad, "-group is required")
	}
	if !templateRE.MatchString(o.tmpl) {
		bad = append(bad, fmt.Sprintf("-template-id %q is not a launch template id", o.tmpl))
	}
	if !versionRE.MatchString(o.version) {
		bad = append(bad, fmt.Sprintf("-template-version %q is not a version number ($Latest and $Default cannot roll back)", o.version))
	}
	if len(bad) > 0 {
		return nil, errors.New(strings.Join(bad, "; "))
	}
	o.spec.Template = Template{ID: o.tmpl, Version: o.version}
	for _, a := range strings.Split(o.alarms, ",") {
		if a = strings.TrimSpace(a); a != "" {
			o.spec.Alarms = append(o.spec.Alarms, a)
		}
	}
	o.waits.Grace, o.waits.Retries = 20*time.Minute, 3
	return o, nil
}

func run(args []string, env func(string) string, stdout, stderr io.Writer) int {
	o, err := parse(args, env, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "rollout: %v\n", err)
		return 2
	}
	// The refresh's own deadline starts when it starts (Rollout); this bound is for a hung CLI:
	// an earlier refresh waited out, this one, and the grace of a rollback.
	ctx, cancel := context.WithTimeout(context.Background(), 2*o.waits.Timeout+o.waits.Grace)
	defer cancel()
	id, err := Rollout(ctx, cli{aws: o.aws, region: o.region}, o.spec, o.waits, stderr)
	fmt.Fprintln(stdout, id)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errTimeout), errors.Is(err, errRolledBack):
		fmt.Fprintf(stderr, "rollout: %v\n", err)
		return 1
	default:
		fmt.Fprintf(stderr, "rollout: %v\n", err)
		return 2
	}
}
