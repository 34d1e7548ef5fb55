package edge

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// DefaultSSLPolicy is the HTTPS listener policy when ALBArgs.SSLPolicy is empty.
const DefaultSSLPolicy = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"

// HSTS is the Strict-Transport-Security value the HTTPS listener adds to every response.
const HSTS = "max-age=63072000"

// logPrefix is where the ALB writes its access logs inside the log bucket.
const logPrefix = "alb"

var tls13PolicyRE = regexp.MustCompile(`^ELBSecurityPolicy-TLS13-1-[23]-`)

// ALBArgs configures the load-balancer edge. The zero value of each optional field is the safe choice.
type ALBArgs struct {
	Site
	Partition, AccountID string // for the log bucket policy
	// LogDeliveryAccount is the region's Elastic Load Balancing account, which delivers access
	// logs in the regions opened before August 2022; empty in the newer ones, where only the
	// log-delivery service principal does.
	LogDeliveryAccount string
	VpcID              pulumi.StringInput
	SubnetIDs          pulumi.StringArrayInput // public subnets, one per zone
	SecurityGroupID    pulumi.StringInput      // the edge group: 80/443 in, the instances' port out
	// TargetPort and HealthPath are HAProxy's plain-HTTP listener and health endpoint on the instances.
	TargetPort int
	HealthPath string
	// SSLPolicy is the HTTPS listener policy; empty means DefaultSSLPolicy. It must be a TLS 1.3
	// policy whose minimum is TLS 1.2 or 1.3.
	SSLPolicy string
	// AllowDelete turns deletion protection off (throwaway stacks; policy reports it).
	AllowDelete bool
	// IdleTimeout in seconds; 0 means 60.
	IdleTimeout int
	// DeregistrationDelay in seconds lets in-flight requests finish on a leaving instance.
	DeregistrationDelay int
	// SlowStart in seconds ramps traffic to a new instance; 0 is off.
	SlowStart int
	// LogDays expires access logs; 0 means 90.
	LogDays int
}

// ALB is the load-balancer edge of one stack.
type ALB struct {
	pulumi.ResourceState
	URLOutput      pulumi.StringOutput      `pulumi:"url"`
	DNSName        pulumi.StringOutput      `pulumi:"dnsName"`
	TargetGroupARN pulumi.StringOutput      `pulumi:"targetGroupArn"`
	LogBucket      pulumi.StringOutput      `pulumi:"logBucket"`
	targetGroups   pulumi.StringArrayOutput // what the fleet registers with
	telemetry      Telemetry
}

// HealthInterval and HealthyThreshold are the target group's health check: a registered
// instance takes traffic after HealthyThreshold checks HealthInterval seconds apart.
const (
	HealthInterval   = 10
	HealthyThreshold = 2
)

// TargetReadySeconds is how long after it registers (when it goes InService) an instance takes
// to carry its full share of requests: its health checks, then slowStart's ramp.
func TargetReadySeconds(slowStart int) int { return HealthInterval*HealthyThreshold + slowStart }

// Telemetry implements Edge.
func (a *ALB) Telemetry() Telemetry { return a.telemetry }

// URL implements Edge.
func (a *ALB) URL() pulumi.StringOutput { return a.URLOutput }

// Address implements Edge.
func (a *ALB) Address() pulumi.StringOutput { return a.DNSName }

// TargetGroupARNs implements Edge.
func (a *ALB) TargetGroupARNs() pulumi.StringArrayInput { return a.targetGroups }

// Instance implements Edge: behind a load balancer the instances need nothing from the edge.
func (a *ALB) Instance() InstanceSide {
	empty := pulumi.String("").ToStringOutput()
	return InstanceSide{Mode: ModeALB, AllocationID: empty, CertBucket: empty, CertBucketARN: empty, CertKeyARN: empty}
}

func (a *ALBArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	if missing := a.Site.validate(); len(missing) > 0 {
		return fmt.Errorf("%s required", strings.Join(missing, ", "))
	}
	switch {
	case a.VpcID == nil || a.SubnetIDs == nil || a.SecurityGroupID == nil:
		return errors.New("VpcID, SubnetIDs and SecurityGroupID are required")
	case a.Partition == "" || a.AccountID == "":
		return errors.New("Partition and AccountID are required for the log bucket policy")
	case a.TargetPort < 1024 || a.TargetPort > 65535:
		return fmt.Errorf("TargetPort %d must be 1024..65535", a.TargetPort)
	case !strings.HasPrefix(a.HealthPath, "/"):
		return fmt.Errorf("HealthPath %q must start with /", a.HealthPath)
	case a.SSLPolicy != "" && !tls13PolicyRE.MatchString(a.SSLPolicy):
		return fmt.Errorf("SSLPolicy %q is not a TLS 1.3 policy with a TLS 1.2+ minimum", a.SSLPolicy)
	case a.DeregistrationDelay < 0 || a.SlowStart < 0 || a.IdleTimeout < 0 || a.LogDays < 0:
		return errors.New("durations cannot be negative")
	}
	return nil
}

// NewALB creates the load balancer, its listeners, target group, certificate, access-log
// bucket and DNS records.
func NewALB(ctx *pulumi.Context, name string, args *ALBArgs, opts ...pulumi.ResourceOption) (*ALB, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("edge %s: %w", name, err)
	}
	a := &ALB{}
	if err := ctx.RegisterComponentResource("immutable-edge:edge:ALB", name, a, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(a)
	logs, logPolicy, err := newBucket(ctx, name+"-alb-logs", bucketArgs{
		Prefix: args.NamePrefix + "-alb-logs", ExpireDays: orDefault(args.LogDays, 90), NoncurrentDays: 1,
		Disposable: args.Disposable, Tags: args.Tags,
		Allow: func(arn string) []iampolicy.Statement { return logDelivery(arn, args) },
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("edge %s: %w", name, err)
	}
	balancer, err := lb.NewLoadBalancer(ctx, name+"-alb", &lb.LoadBalancerArgs{
		LoadBalancerType:         pulumi.String("application"),
		Internal:                 pulumi.Bool(false),
		Subnets:                  args.SubnetIDs,
		SecurityGroups:           pulumi.StringArray{args.SecurityGroupID},
		DropInvalidHeaderFields:  pulumi.Bool(true),              // CKV_AWS_131
		DesyncMitigationMode:     pulumi.String("defensive"),     // CKV_AWS_328
		EnableDeletionProtection: pulumi.Bool(!args.AllowDelete), // CKV_AWS_150
		IdleTimeout:              pulumi.Int(orDefault(args.IdleTimeout, 60)),
		EnableHttp2:              pulumi.Bool(true),
		// HAProxy believes only the last X-Forwarded-For entry, the one the ALB appends; stated
		// rather than left to the default ("append" of append|preserve|remove,
		// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html).
		XffHeaderProcessingMode: pulumi.String("append"),
		AccessLogs: &lb.LoadBalancerAccessLogsArgs{ // CKV_AWS_91
			Bucket: logs.Bucket, Prefix: pulumi.String(logPrefix), Enabled: pulumi.Bool(true),
		},
		Tags: tags.Named(args.Tags, name+"-alb"),
	}, parent, pulumi.DependsOn([]pulumi.Resource{logPolicy})) // ELB checks it can write logs at creation
	if err != nil {
		return nil, fmt.Errorf("edge %s: load balancer: %w", name, err)
	}
	tg, err := lb.NewTargetGroup(ctx, name+"-tg", &lb.TargetGroupArgs{
		VpcId:               args.VpcID,
		TargetType:          pulumi.String("instance"),
		Protocol:            pulumi.String("HTTP"),
		Port:                pulumi.Int(args.TargetPort),
		DeregistrationDelay: pulumi.Int(args.DeregistrationDelay),
		SlowStart:           pulumi.Int(args.SlowStart),
		HealthCheck: &lb.TargetGroupHealthCheckArgs{ // CKV_AWS_261
			Enabled: pulumi.Bool(true), Protocol: pulumi.String("HTTP"), Port: pulumi.String("traffic-port"),
			Path: pulumi.String(args.HealthPath), Matcher: pulumi.String("200"),
			Interval: pulumi.Int(HealthInterval), Timeout: pulumi.Int(5), HealthyThreshold: pulumi.Int(HealthyThreshold), UnhealthyThreshold: pulumi.Int(2),
		},
		Tags: tags.Named(args.Tags, name+"-tg"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("edge %s: target group: %w", name, err)
	}
	certARN, err := newCertificate(ctx, name, args.Site, parent)
	if err != nil {
		return nil, fmt.Errorf("edge %s: %w", name, err)
	}
	if err := listeners(ctx, name, args, balancer, tg, certARN, parent); err != nil {
		return nil, fmt.Errorf("edge %s: %w", name, err)
	}
	if err := aliasRecords(ctx, name, args.Site, balancer.DnsName, balancer.ZoneId, parent); err != nil {
		return nil, fmt.Errorf("edge %s: %w", name, err)
	}

	a.URLOutput = pulumi.String("https://" + args.Domain).ToStringOutput()
	a.DNSName = balancer.DnsName
	a.TargetGroupARN = tg.Arn
	a.LogBucket = logs.Bucket
	a.targetGroups = pulumi.StringArray{tg.Arn}.ToStringArrayOutput()
	a.telemetry = Telemetry{Mode: ModeALB, LoadBalancer: balancer.ArnSuffix, TargetGroup: tg.ArnSuffix, Certificate: certARN}
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{
		"url": a.URLOutput, "dnsName": a.DNSName, "targetGroupArn": a.TargetGroupARN, "logBucket": a.LogBucket,
	})
}

// listeners: port 80 only redirects; port 443 terminates TLS with an explicit policy (the API's
// default is the 2016 policy), adds HSTS and forwards to the instances.
func listeners(ctx *pulumi.Context, name string, args *ALBArgs, balancer *lb.LoadBalancer, tg *lb.TargetGroup,
	certARN pulumi.StringOutput, parent pulumi.ResourceOption) error {
	if _, err := lb.NewListener(ctx, name+"-http", &lb.ListenerArgs{
		LoadBalancerArn: balancer.Arn,
		Port:            pulumi.Int(80),
		Protocol:        pulumi.String("HTTP"),
		DefaultActions: lb.ListenerDefaultActionArray{&lb.ListenerDefaultActionArgs{ // CKV2_AWS_20
			Type: pulumi.String("redirect"),
			Redirect: &lb.ListenerDefaultActionRedirectArgs{
				Protocol: pulumi.String("HTTPS"), Port: pulumi.String("443"), StatusCode: pulumi.String("HTTP_301"),
			},
		}},
		Tags: tags.Named(args.Tags, name+"-http"),
	}, parent); err != nil {
		return fmt.Errorf("HTTP listener: %w", err)
	}
	policy := args.SSLPolicy
	if policy == "" {
		policy = DefaultSSLPolicy
	}
	if _, err := lb.NewListener(ctx, name+"-https", &lb.ListenerArgs{
		LoadBalancerArn: balancer.Arn,
		Port:            pulumi.Int(443),
		Protocol:        pulumi.String("HTTPS"),
		SslPolicy:       pulumi.String(policy), // CKV_AWS_103, CKV2_AWS_74
		CertificateArn:  certARN,
		RoutingHttpResponseStrictTransportSecurityHeaderValue: pulumi.String(HSTS),
		DefaultActions: lb.ListenerDefaultActionArray{&lb.ListenerDefaultActionArgs{
			Type: pulumi.String("forward"), TargetGroupArn: tg.Arn,
		}},
		Tags: tags.Named(args.Tags, name+"-https"),
	}, parent); err != nil {
		return fmt.Errorf("HTTPS listener: %w", err)
	}
	return nil
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// LogDeliveryService is the service principal that delivers ALB access logs in the regions
// opened since August 2022.
const LogDeliveryService = "logdelivery.elasticloadbalancing.amazonaws.com"

// logDelivery lets Elastic Load Balancing write access logs under the log prefix, as AWS
// documents it (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html):
// the region's ELB account in the regions available before August 2022, the log-delivery service
// principal in the others. Both are granted where both exist, so the bucket keeps working
// whichever the service uses.
func logDelivery(bucketARN string, args *ALBArgs) []iampolicy.Statement {
	objects := []string{bucketARN + "/" + logPrefix + "/AWSLogs/" + args.AccountID + "/*"}
	out := []iampolicy.Statement{{
		Sid: "ALBAccessLogs", Effect: "Allow",
		Principal: map[string]any{"Service": LogDeliveryService},
		Action:    []string{"s3:PutObject"}, Resource: objects,
	}}
	if args.LogDeliveryAccount != "" {
		out = append(out, iampolicy.Statement{
			Sid: "ALBAccessLogsRegionalAccount", Effect: "Allow",
			Principal: map[string]any{"AWS": "arn:" + args.Partition + ":iam::" + args.LogDeliveryAccount + ":root"},
			Action:    []string{"s3:PutObject"}, Resource: objects,
		})
	}
	return out
}
