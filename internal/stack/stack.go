// Package stack is the immutable-edge Pulumi program: it loads the stack config and wires the
// components top to bottom, passing each one's outputs into the next one's arguments.
package stack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/components/edge"
	"github.com/immutable-edge/immutable-edge/components/fleet"
	"github.com/immutable-edge/immutable-edge/components/identity"
	"github.com/immutable-edge/immutable-edge/components/image"
	"github.com/immutable-edge/immutable-edge/components/network"
	"github.com/immutable-edge/immutable-edge/components/registry"
	"github.com/immutable-edge/immutable-edge/components/schedule"
	"github.com/immutable-edge/immutable-edge/components/security"
	"github.com/immutable-edge/immutable-edge/internal/awsapi"
	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
)

// Deploy is the Pulumi program of every stack.
func Deploy(ctx *pulumi.Context) error {
	cfg, err := config.Load(ctx.Project(), ctx.Stack(), config.Raw(ctx))
	if err != nil {
		return err
	}
	env, err := lookupEnvironment(ctx, cfg)
	if err != nil {
		return err
	}
	name, tags := cfg.Stack, cfg.Tags()
	public, private, err := config.Subnets(cfg.VpcCIDR, env.zones)
	if err != nil {
		return err
	}

	alerts, err := newAlerts(ctx, cfg, env)
	if err != nil {
		return err
	}
	net, err := network.NewNetwork(ctx, name, &network.NetworkArgs{
		CIDR: cfg.VpcCIDR, PublicSubnets: public, PrivateSubnets: private,
		NAT: cfg.NATGateways, S3Endpoint: cfg.S3Endpoint, Region: cfg.Region,
		FlowLogRetentionDays: cfg.LogRetention, FlowLogKeyARN: alerts.KeyARN,
		Roles: roleScope(cfg), Tags: tags,
	})
	if err != nil {
		return err
	}
	sg, err := security.NewGroups(ctx, name, &security.GroupsArgs{
		VpcID: net.VpcID.ToStringOutput(), Mode: cfg.Edge, ProxyPort: config.ProxyPort,
		DatabasePort: portIf(cfg.Database != nil, config.DatabasePort), CachePort: portIf(cfg.Cache != nil, config.CachePort), Tags: tags,
	})
	if err != nil {
		return err
	}
	data, err := newDataTier(ctx, cfg, net, sg, alerts.KeyARN)
	if err != nil {
		return err
	}
	reg, err := registry.NewRegistry(ctx, name, &registry.RegistryArgs{
		Prefix: cfg.Project + "/" + cfg.Stack, Services: cfg.RepositoryNames(), KeepImages: cfg.KeepImages,
		ForceDelete: !cfg.Protect, Tags: tags,
	})
	if err != nil {
		return err
	}
	firings, err := newFirings(ctx, cfg, alerts.KeyARN)
	if err != nil {
		return err
	}
	front, err := newEdge(ctx, cfg, env, net, sg, alerts.KeyARN)
	if err != nil {
		return err
	}
	side := front.Instance()
	ids := identityArgs(cfg, env, reg, side, alerts.KeyARN)
	if firings != nil {
		ids.JobTableARN = firings.TableARN
	}
	data.grant(ids)
	if ids.DatabaseSecretARN != nil || ids.CacheSecretARN != nil {
		ids.SecretKeyARN = alerts.KeyARN
	}
	id, err := identity.NewInstanceIdentity(ctx, name, ids)
	if err != nil {
		return err
	}
	subnets := net.PrivateSubnetIDs
	if cfg.InstanceSubnets == config.SubnetsPublic {
		subnets = net.PublicSubnetIDs
	}
	imageID, err := goldenImage(ctx, cfg, env, net)
	if err != nil {
		return err
	}
	fl, err := fleet.NewFleet(ctx, name, &fleet.FleetArgs{
		ImageID:            imageID,
		InstanceType:       cfg.InstanceType,
		InstanceProfileARN: id.InstanceProfileARN,
		SecurityGroupIDs:   pulumi.StringArray{sg.InstanceGroupID},
		SubnetIDs:          subnets,
		UserData:           userData(cfg, env.account, side, firings, data),
		PublicIP:           cfg.InstanceSubnets == config.SubnetsPublic,
		Min:                cfg.Fleet.Min, Max: cfg.Fleet.Max, Desired: cfg.Fleet.Desired,
		TargetGroupARNs: front.TargetGroupARNs(),
		Scaling:         scaling(cfg, front.Telemetry()),
		WarmupSeconds:   warmup(cfg),
		LaunchHook:      config.LaunchHook,
		RootVolumeGB:    cfg.RootVolumeGB,
		BasicMonitoring: !cfg.DetailedMonitoring,
		Tags:            tags,
	}, pulumi.DependsOn(alerts.LogGroups)) // the agent writes to log groups it may not create
	if err != nil {
		return err
	}
	mon, err := newMonitor(ctx, cfg, env, alerts, front, fl)
	if err != nil {
		return err
	}
	roll, err := newRollout(ctx, cfg, fl, mon)
	if err != nil {
		return err
	}

	ctx.Export("edge", pulumi.String(cfg.Edge))
	ctx.Export("url", front.URL())
	ctx.Export("edgeAddress", front.Address())
	ctx.Export("vpcId", net.VpcID)
	ctx.Export("publicSubnetIds", net.PublicSubnetIDs)
	ctx.Export("privateSubnetIds", net.PrivateSubnetIDs)
	ctx.Export("repositoryUrls", reg.RepositoryURLs)
	ctx.Export("instanceRoleArn", id.RoleARN)
	ctx.Export("asgName", fl.GroupName)
	ctx.Export("launchTemplateId", fl.LaunchTemplateID)
	ctx.Export("launchTemplateVersion", fl.LaunchTemplateVersion)
	ctx.Export("amiId", fl.ImageID)
	ctx.Export("refreshId", roll.RefreshID)
	ctx.Export("alertTopicArn", alerts.TopicARN)
	ctx.Export("dashboard", mon.DashboardName)
	return nil
}

// newEdge builds the edge the config names; everything after it sees only the Edge interface.
func newEdge(ctx *pulumi.Context, cfg *config.Config, env *environment, net *network.Network, sg *security.Groups,
	stackKey pulumi.StringOutput) (edge.Edge, error) {
	site := edge.Site{
		Domain: cfg.Domain, HostedZoneID: cfg.HostedZoneID, NamePrefix: cfg.NamePrefix(),
		CertificateNames: cfg.CertificateNames(), RecordNames: cfg.RecordNames(), Disposable: !cfg.Protect, Tags: cfg.Tags(),
	}
	if cfg.Edge == config.EdgeEIP {
		return edge.NewEIP(ctx, cfg.Stack, &edge.EIPArgs{Site: site, StateKeyARN: stackKey})
	}
	a := cfg.ALB
	table, err := awsapi.Load()
	if err != nil {
		return nil, err
	}
	return edge.NewALB(ctx, cfg.Stack, &edge.ALBArgs{
		Site: site, Partition: env.partition, AccountID: env.account,
		// The region's ELB account, as the AWS provider's aws_elb_service_account knows it.
		LogDeliveryAccount: table.ELBAccounts[cfg.Region],
		VpcID:              net.VpcID.ToStringOutput(), SubnetIDs: net.PublicSubnetIDs, SecurityGroupID: sg.EdgeGroupID,
		TargetPort: config.ProxyPort, HealthPath: config.EdgeHealthPath,
		SSLPolicy: a.SSLPolicy, AllowDelete: !*a.DeletionProtection, IdleTimeout: a.IdleTimeout,
		DeregistrationDelay: *a.DeregistrationDelay, SlowStart: a.SlowStart, LogDays: a.AccessLogDays,
	})
}

// identityArgs scopes the instance role to this stack: its repositories and log groups, and on
// the eip edge its address, its certificate prefix and ACME records in its zone.
func identityArgs(cfg *config.Config, env *environment, reg *registry.Registry, side edge.InstanceSide,
	stackKey pulumi.StringOutput) *identity.InstanceIdentityArgs {
	a := &identity.InstanceIdentityArgs{
		Partition: env.partition, Region: cfg.Region, AccountID: env.account,
		RepositoryARNs:    reg.RepositoryARNs,
		LogGroupPrefix:    bootstrap.LogGroupPrefix(cfg.Project, cfg.Stack),
		MetricNamespaces:  []string{config.MetricNamespace(cfg.Stack)},
		ClaimAllocationID: side.AllocationID,
		CertBucketARN:     side.CertBucketARN, CertPrefix: side.CertPrefix, CertKeyARN: side.CertKeyARN,
		ReportReady: true,
		StackTag:    cfg.Stack,
		Roles:       roleScope(cfg),
		Tags:        cfg.Tags(),
	}
	if side.Mode == edge.ModeEIP {
		a.ChallengeZoneID = cfg.HostedZoneID // certbot answers DNS-01 in the stack's zone
	}
	if cfg.UnhealthyMinutes() > 0 {
		a.HealGroupPrefix = groupPrefix(cfg)
	}
	a.SecretParameterARNs, a.SecretARNs = secretARNs(cfg, env)
	if len(a.SecretParameterARNs)+len(a.SecretARNs) > 0 {
		a.SecretKeyARN = stackKey
	}
	return a
}

// secretARNs lists the resources of every secret a service references, sorted and without
// repeats: parameter ARNs (the name without its leading slash), and secret ARNs as given or, for
// a name, the name and Secrets Manager's six-character suffix
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_resources.html).
func secretARNs(cfg *config.Config, env *environment) (parameters, secrets []string) {
	base := "arn:" + env.partition + ":%s:" + cfg.Region + ":" + env.account + ":%s"
	for _, w := range cfg.Workloads() {
		for _, r := range w.Secrets {
			switch {
			case r.Database != "" || r.Cache != "":
				// the data tier's own secrets, known once it exists (dataTier.grant)
			case r.SSM != "":
				parameters = append(parameters, fmt.Sprintf(base, "ssm", "parameter/"+strings.TrimPrefix(r.SSM, "/")))
			case strings.HasPrefix(r.SecretsManager, "arn:"):
				secrets = append(secrets, r.SecretsManager)
			default:
				secrets = append(secrets, fmt.Sprintf(base, "secretsmanager", "secret:"+r.SecretsManager+"-??????"))
			}
		}
	}
	slices.Sort(parameters)
	slices.Sort(secrets)
	return slices.Compact(parameters), slices.Compact(secrets)
}

// portIf is port when on, else 0 (none).
func portIf(on bool, port int) int {
	if on {
		return port
	}
	return 0
}

// newFirings makes the table the instances race in for each job firing; nil without jobs.
func newFirings(ctx *pulumi.Context, cfg *config.Config, key pulumi.StringOutput) (*schedule.Firings, error) {
	if len(cfg.Jobs) == 0 {
		return nil, nil
	}
	return schedule.NewFirings(ctx, cfg.Stack, &schedule.FiringsArgs{
		TableName: FiringsTable(cfg), KeyARN: key, Protect: cfg.Protect, Tags: cfg.Tags(),
	})
}

// FiringsTable names a stack's job firings table: under the stack's name prefix, which the
// boundary and the deploy role scope DynamoDB to.
func FiringsTable(cfg *config.Config) string { return cfg.NamePrefix() + "-job-firings" }

// groupPrefix starts the name of the stack's Auto Scaling group: the fleet's name prefix
// (fleet.groupArgs: the component name and a hyphen), which the deploy role's grants expect too.
func groupPrefix(cfg *config.Config) string { return cfg.Stack + "-" }

// roleScope puts every role of the stack under its own IAM path with its permissions boundary,
// which is what the deploy role from account/ is allowed to create.
func roleScope(cfg *config.Config) iampolicy.RoleScope {
	return iampolicy.RoleScope{Path: cfg.IAMPath(), Boundary: cfg.PermissionsBoundary}
}

// userData renders the instance payload once the edge's address and bucket names are known.
func userData(cfg *config.Config, account string, side edge.InstanceSide, firings *schedule.Firings, data *dataTier) pulumi.StringOutput {
	table := pulumi.String("").ToStringOutput()
	if firings != nil {
		table = firings.TableName
	}
	return pulumi.All(append([]any{side.AllocationID, side.CertBucket, table}, data.outputs()...)...).ApplyT(func(in []any) (string, error) {
		s := bootstrap.Describe(cfg, account)
		s.Edge.AllocationID, s.Edge.CertBucket, s.JobTable = in[0].(string), in[1].(string), in[2].(string)
		fill(&s, cfg, in[3:])
		if s.Edge.CertBucket != "" {
			s.Edge.CertPrefix = side.CertPrefix
		}
		return bootstrap.UserData(s)
	}).(pulumi.StringOutput)
}

// environment is what the program reads from the account before it creates anything.
type environment struct {
	partition, account string
	zones              []string // the first azCount zones, in AWS's order
	imageID            string   // the channel's AMI id, when this stack does not build it
}

// lookupEnvironment reads the account, zones and AMI id. The AMI id is read here, at deploy
// time, so a new image shows in the preview as a launch template diff (never resolve:ssm:).
func lookupEnvironment(ctx *pulumi.Context, cfg *config.Config) (*environment, error) {
	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{State: pulumi.StringRef("available")})
	if err != nil {
		return nil, fmt.Errorf("availability zones: %w", err)
	}
	if err := cfg.CheckZones(zones.Names); err != nil {
		return nil, err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("caller identity: %w", err)
	}
	partition, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("partition: %w", err)
	}
	if b := cfg.PermissionsBoundary; b != "" && strings.Split(b, ":")[4] != caller.AccountId {
		return nil, fmt.Errorf("%s:permissionsBoundary %s is in another account than %s, where this stack deploys", config.Namespace, b, caller.AccountId)
	}
	if err := cfg.CheckAccount(caller.AccountId); err != nil {
		return nil, err
	}
	env := &environment{partition: partition.Partition, account: caller.AccountId, zones: zones.Names[:cfg.AZCount]}
	if cfg.Image.Build {
		return env, nil // this stack builds the image and writes the parameter itself
	}
	// InsecureValue: an AMI id is not a secret, and a masked value would hide the diff.
	param, err := ssm.LookupParameter(ctx, &ssm.LookupParameterArgs{Name: cfg.Image.Parameter})
	if err != nil {
		return nil, imageParameterError(cfg, err)
	}
	env.imageID = param.InsecureValue
	return env, nil
}

// imageParameterError explains a parameter that cannot be read. On a stack that does not build
// its image, a missing one means nothing was promoted to it yet: the first deploy of prod.
// SSM answers ParameterNotFound
// (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html).
func imageParameterError(cfg *config.Config, err error) error {
	key := fmt.Sprintf("%s:image.parameter %s", config.Namespace, cfg.Image.Parameter)
	msg := err.Error()
	if !strings.Contains(msg, "ParameterNotFound") && !strings.Contains(msg, "not found") {
		return fmt.Errorf("%s: %w", key, err)
	}
	return fmt.Errorf("%s does not exist yet: this stack runs the image another stack built and tested, and none has "+
		"been promoted to it. Deploy the building stack first, then promote its image: images/promote.sh %s %s "+
		"(or the image workflow's promote action), and run this up again", key, PromoteSource, cfg.Stack)
}

// PromoteSource is the stack whose tested image the others are promoted from.
const PromoteSource = "dev"

// goldenImage is the AMI the launch template starts: built here and published to the channel's
// parameter (image.build), or the id the parameter held when the program ran. The build runs
// in the stack's first public subnet, so it needs no default VPC.
func goldenImage(ctx *pulumi.Context, cfg *config.Config, env *environment, net *network.Network) (pulumi.StringInput, error) {
	if !cfg.Image.Build {
		return pulumi.String(env.imageID), nil
	}
	root, err := ProjectDir()
	if err != nil {
		return nil, err
	}
	// The hash is of the content only; the commands name images/ relative to the project
	// directory, so the checkout's absolute path never reaches an input.
	hash, err := image.ContentHash(filepath.Join(root, imagesDir))
	if err != nil {
		return nil, err
	}
	img, err := image.NewGoldenImage(ctx, cfg.Stack, &image.GoldenImageArgs{
		Scripts: imagesDir, ContentHash: hash, Region: cfg.Region, Channel: cfg.Stack,
		Architecture: cfg.Image.Architecture, Parameter: cfg.Image.Parameter, Tags: cfg.Tags(),
		SubnetID: net.PublicSubnetIDs.Index(pulumi.Int(0)), Project: cfg.Project, Keep: *cfg.Image.Keep,
	})
	if err != nil {
		return nil, err
	}
	return img.ImageID, nil
}

// imagesDir holds the Packer template and its scripts, relative to the project directory.
const imagesDir = "images"

// ProjectDir is the nearest directory at or above the working directory that holds
// Pulumi.yaml: where pulumi runs the program, and where tests find the repository.
func ProjectDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "Pulumi.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no Pulumi.yaml in the working directory or above")
		}
		dir = parent
	}
}
