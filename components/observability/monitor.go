package observability

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// Thresholds are what the alarms page at.
type Thresholds struct {
	CPUPercent, DiskPercent, HTTP5xxPercent, LatencyP95Seconds float64
	CertificateDays                                            int
	// Minutes is how long a condition holds before it pages.
	Minutes int
}

// MonitorArgs is what is watched and where alerts go.
type MonitorArgs struct {
	Partition, Region, AccountID string
	// Qualifier prefixes alarm and rule names; the alert topic admits only names under it.
	Qualifier string
	// Stack is the Stack dimension of the instances' metrics in Namespace.
	Stack, Namespace string
	TopicARN         pulumi.StringInput
	// GroupName and Desired are the Auto Scaling group and the capacity it should hold.
	GroupName pulumi.StringInput
	Desired   int
	// Headroom watches a scaling group's ceiling; nil for a group that does not scale.
	Headroom *Headroom
	// Edge is "alb" or "eip". alb: LoadBalancer and TargetGroup (ARN suffixes) and Certificate (ARN).
	Edge                                   string
	LoadBalancer, TargetGroup, Certificate pulumi.StringInput
	// Domain and HealthPath are checked from outside AWS by a Route 53 health check, on both edges.
	Domain, HealthPath string
	// BasicMonitoring says the instances publish EC2 metrics every 5 minutes (detailed monitoring
	// off), so the CPU alarm evaluates 5-minute periods.
	BasicMonitoring bool
	// Jobs are the scheduled jobs; each gets an alarm on its failed runs.
	Jobs       []string
	Thresholds Thresholds
	// Roles places the alarm-forwarding role under the stack's IAM path, bounded by its boundary.
	Roles iampolicy.RoleScope
	Tags  map[string]string
}

// Headroom is a scaling group's ceiling and how long it may sit there before someone is told.
type Headroom struct {
	Max          int
	AtMaxMinutes int
}

// Monitor holds the stack's alarms, refresh-event rule, external check and dashboard.
type Monitor struct {
	pulumi.ResourceState
	AlarmNames pulumi.StringArrayOutput `pulumi:"alarmNames"`
	// RollbackAlarms are the alarms that roll a refresh back (all in the stack's region: the
	// refresh's AlarmSpecification names alarms of the group's region, so the us-east-1 external
	// check cannot be one).
	RollbackAlarms pulumi.StringArrayOutput `pulumi:"rollbackAlarms"`
	DashboardName  pulumi.StringOutput      `pulumi:"dashboardName"`
}

func (a *MonitorArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	var bad []string
	if a.Partition == "" || a.Region == "" || a.AccountID == "" || a.Qualifier == "" || a.Stack == "" || a.Namespace == "" {
		bad = append(bad, "Partition, Region, AccountID, Qualifier, Stack and Namespace are required")
	}
	if a.TopicARN == nil || a.GroupName == nil {
		bad = append(bad, "TopicARN and GroupName are required")
	}
	if a.Desired < 1 {
		bad = append(bad, "Desired must be at least 1")
	}
	if h := a.Headroom; h != nil && (h.Max < a.Desired || h.AtMaxMinutes < 1 || h.AtMaxMinutes > 1440) {
		bad = append(bad, "Headroom needs Max at least Desired and AtMaxMinutes 1..1440")
	}
	switch a.Edge {
	case "alb":
		if a.LoadBalancer == nil || a.TargetGroup == nil || a.Certificate == nil {
			bad = append(bad, "the alb edge needs LoadBalancer, TargetGroup and Certificate")
		}
	case "eip":
	default:
		bad = append(bad, fmt.Sprintf("Edge must be alb or eip, got %q", a.Edge))
	}
	if a.Domain == "" || !strings.HasPrefix(a.HealthPath, "/") {
		bad = append(bad, "the external check needs Domain and an absolute HealthPath")
	}
	t := a.Thresholds
	if t.CPUPercent <= 0 || t.DiskPercent <= 0 || t.HTTP5xxPercent <= 0 || t.LatencyP95Seconds <= 0 || t.CertificateDays < 1 || t.Minutes < 1 {
		bad = append(bad, "every threshold must be positive")
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// NewMonitor creates the alarms, the refresh-event rule, the external check and the dashboard.
func NewMonitor(ctx *pulumi.Context, name string, args *MonitorArgs, opts ...pulumi.ResourceOption) (*Monitor, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("monitor %s: %w", name, err)
	}
	m := &Monitor{}
	if err := ctx.RegisterComponentResource("immutable-edge:observability:Monitor", name, m, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(m)
	var names, rollback pulumi.StringArray
	var arns []pulumi.StringOutput
	for _, al := range alarms(args) {
		alarm, err := newAlarm(ctx, name, args, al, parent)
		if err != nil {
			return nil, fmt.Errorf("monitor %s: %w", name, err)
		}
		names = append(names, alarm.Name)
		arns = append(arns, alarm.Arn)
		if al.rollback {
			rollback = append(rollback, alarm.Name)
		}
	}
	rule, err := refreshEvents(ctx, name, args, parent)
	if err != nil {
		return nil, fmt.Errorf("monitor %s: %w", name, err)
	}
	check, err := externalCheck(ctx, name, args, parent)
	if err != nil {
		return nil, fmt.Errorf("monitor %s: %w", name, err)
	}
	names = append(names, check.alarmName)
	if args.Headroom != nil {
		if err := scalingEvents(ctx, name, args, parent); err != nil {
			return nil, fmt.Errorf("monitor %s: %w", name, err)
		}
	}
	board := board{args: args, refreshRule: rule, alarms: arns, healthCheck: check.healthCheckID}
	dash, err := cloudwatch.NewDashboard(ctx, name+"-dashboard", &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(args.Qualifier),
		DashboardBody: board.body(),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("monitor %s: dashboard: %w", name, err)
	}
	m.AlarmNames = names.ToStringArrayOutput()
	m.RollbackAlarms = rollback.ToStringArrayOutput()
	m.DashboardName = dash.DashboardName
	return m, ctx.RegisterResourceOutputs(m, pulumi.Map{"alarmNames": m.AlarmNames, "rollbackAlarms": m.RollbackAlarms, "dashboardName": m.DashboardName})
}

// newAlarm creates one alarm that notifies the topic when it fires and when it clears.
func newAlarm(ctx *pulumi.Context, name string, args *MonitorArgs, al alarm, opts ...pulumi.ResourceOption) (*cloudwatch.MetricAlarm, error) {
	in := &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(args.Qualifier + "-" + al.name),
		AlarmDescription:   pulumi.String(al.description),
		ComparisonOperator: pulumi.String(al.compare),
		Threshold:          pulumi.Float64(al.threshold),
		EvaluationPeriods:  pulumi.Int(al.evaluations),
		DatapointsToAlarm:  pulumi.Int(al.evaluations),
		TreatMissingData:   pulumi.String(al.missing),
		ActionsEnabled:     pulumi.Bool(true), // CKV_AWS_319
		AlarmActions:       pulumi.Array{args.TopicARN},
		OkActions:          pulumi.Array{args.TopicARN},
		Tags:               tags.Named(args.Tags, args.Qualifier+"-"+al.name),
	}
	if al.queries != nil {
		in.MetricQueries = al.queries
	} else {
		in.Namespace, in.MetricName, in.Dimensions = pulumi.String(al.metric.namespace), pulumi.String(al.metric.name), al.metric.dims
		in.Period = pulumi.Int(al.period)
		if strings.HasPrefix(al.stat, "p") {
			in.ExtendedStatistic = pulumi.String(al.stat)
		} else {
			in.Statistic = pulumi.String(al.stat)
		}
	}
	alarm, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+al.name, in, opts...)
	if err != nil {
		return nil, fmt.Errorf("alarm %s: %w", al.name, err)
	}
	return alarm, nil
}
