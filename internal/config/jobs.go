package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Limits on jobs.
const (
	MaxJobs           = 10
	MaxJobCommand     = 32      // words of a job's command
	MaxJobTimeoutMins = 24 * 60 // a run that takes longer is stopped
	DefaultJobTimeout = 30      // minutes
)

// Job is a container run to completion on a schedule, on exactly one instance per firing.
type Job struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	// Schedule is a cron expression in UTC (five fields, or @hourly, @daily ...); see Calendar.
	Schedule string `json:"schedule"`
	// Command replaces the image's command (exec form); empty runs the image's own.
	Command []string `json:"command"`
	// TimeoutMinutes stops a run that takes longer, which then counts as failed; 0 means 30.
	TimeoutMinutes int  `json:"timeoutMinutes"`
	WritableRoot   bool `json:"writableRoot"`
	// Environment and Secrets are as a service's.
	Environment map[string]string    `json:"environment"`
	Secrets     map[string]SecretRef `json:"secrets"`
}

// Calendar is the job's schedule as systemd OnCalendar expressions (validated by Load).
func (j Job) Calendar() []string {
	c, err := Calendar(j.Schedule)
	if err != nil {
		panic(fmt.Sprintf("job %s: %v", j.Name, err)) // Load refused it already
	}
	return c
}

// Repository is the ECR repository the job's image comes from: a service's, when the image
// names one (a job often runs the app's own image with another command), else the job's own.
func (j Job) Repository(services []string) string {
	name, _, _ := strings.Cut(j.Image, "@")
	name, _, _ = strings.Cut(name, ":")
	if slices.Contains(services, name) {
		return name
	}
	return j.Name
}

// RepositoryNames lists the stack's ECR repositories: one per service, and one per job that does
// not run a service's image.
func (c *Config) RepositoryNames() []string {
	names := c.ServiceNames()
	for _, j := range c.Jobs {
		if r := j.Repository(c.ServiceNames()); !slices.Contains(names, r) {
			names = append(names, r)
		}
	}
	return names
}

// Workload is what a service and a job share: a named image with environment and secrets.
type Workload struct {
	Name        string
	Image       string
	Environment map[string]string
	Secrets     map[string]SecretRef
}

// Workloads lists every service and job, in config order, services first.
func (c *Config) Workloads() []Workload {
	var out []Workload
	for _, s := range c.Services {
		out = append(out, Workload{s.Name, s.Image, s.Environment, s.Secrets})
	}
	for _, j := range c.Jobs {
		out = append(out, Workload{j.Name, j.Image, j.Environment, j.Secrets})
	}
	return out
}

func (c *Config) validateJobs(names map[string]bool) error {
	var errs problems
	fail := errs.add
	if len(c.Jobs) > MaxJobs {
		fail(key("jobs"), "has %d jobs; at most %d", len(c.Jobs), MaxJobs)
	}
	for i, j := range c.Jobs {
		k := fmt.Sprintf("%s[%d]", key("jobs"), i)
		switch {
		case !serviceNameRE.MatchString(j.Name):
			fail(k+".name", "%q must be a lowercase DNS label of at most 32 characters", j.Name)
		case names[j.Name]:
			fail(k+".name", "%q is used by another service or job (their secrets and units share one namespace)", j.Name)
		}
		names[j.Name] = true
		if err := validImage(j.Repository(c.ServiceNames()), j.Image); err != nil {
			fail(k+".image", "%v (or a service's repository, to run the service's image)", err)
		}
		if _, err := Calendar(j.Schedule); err != nil {
			fail(k+".schedule", "does not parse: %v", err)
		}
		if n := len(j.Command); n > MaxJobCommand {
			fail(k+".command", "has %d words; at most %d", n, MaxJobCommand)
		}
		for w, word := range j.Command {
			if word == "" || len(word) > 1024 || strings.ContainsAny(word, "\x00\n\r") {
				fail(fmt.Sprintf("%s.command[%d]", k, w), "must be 1..1024 characters without line breaks (exec form: one word each, no shell)")
			}
		}
		if j.TimeoutMinutes < 1 || j.TimeoutMinutes > MaxJobTimeoutMins {
			fail(k+".timeoutMinutes", "must be 1..%d, got %d", MaxJobTimeoutMins, j.TimeoutMinutes)
		}
		errs = append(errs, flatten(c.validateEnvironment(k, Workload{j.Name, j.Image, j.Environment, j.Secrets}))...)
	}
	return errors.Join(errs...)
}
