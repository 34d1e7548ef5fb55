package config

import "github.com/immutable-edge/immutable-edge/internal/awsapi"

// providerName is a physical name the program derives from the project and stack names, with
// the provider argument that checks it.
type providerName struct {
	what, tfType, attr, value string
}

// providerNames lists the derived names nearest their provider's limits: the longest bucket
// prefix, the longest EventBridge rule name, and on the alb edge the load balancer and target
// group, which Pulumi names after the stack plus its 8-character suffix (the provider allows
// 32). internal/stack's TestLongestNamesPassTheProvider plans the longest names Validate
// accepts and checks every planned name with the provider's validators, so a component that
// derives a longer name than listed here fails there.
func (c *Config) providerNames() []providerName {
	names := []providerName{
		{"the log bucket's name prefix", "aws_s3_bucket", "bucket_prefix", c.NamePrefix() + "-alb-logs-"},
		{"the external check's event rule", "aws_cloudwatch_event_rule", "name", c.NamePrefix() + "-external-check"},
	}
	if c.Edge == EdgeALB {
		names = append(names,
			providerName{"the load balancer's name", "aws_lb", "name", c.Stack + "-alb" + awsapi.AutonameSuffix},
			providerName{"the target group's name", "aws_lb_target_group", "name", c.Stack + "-tg" + awsapi.AutonameSuffix})
	}
	return names
}

// validateNames runs each derived name through its provider argument's validator, compiled from
// the provider's source (internal/awsapi): a name the provider would reject at pulumi up is a
// config error on the stack's name now.
func (c *Config) validateNames() []error {
	table, err := awsapi.Load()
	if err != nil {
		return []error{err}
	}
	var errs problems
	for _, n := range c.providerNames() {
		why, at, err := table.Validate(n.tfType, n.attr, n.value)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if why != "" {
			errs.add("stack", "project and stack name %q make %s %q, which the AWS provider rejects (%s.%s: %s, %s); use a shorter stack or project name",
				c.NamePrefix(), n.what, n.value, n.tfType, n.attr, why, at)
		}
	}
	return errs
}
