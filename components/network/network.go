// Package network builds the VPC of a stack: one public and one private subnet per zone,
// an internet gateway, NAT gateways as chosen, an optional S3 gateway endpoint, VPC flow logs
// and a default security group with no rules.
package network

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// NAT gateway layouts.
const (
	NATNone   = "none"   // private subnets have no way out (cheapest; instances must be public)
	NATSingle = "single" // one gateway in the first zone for all private subnets
	NATPerAZ  = "perAz"  // one gateway per zone, so a zone outage cuts off only that zone
)

// NetworkArgs configures the VPC. Subnet maps are keyed by Availability Zone.
type NetworkArgs struct {
	CIDR           string
	PublicSubnets  map[string]string // zone → CIDR
	PrivateSubnets map[string]string // zone → CIDR; same zones as PublicSubnets
	NAT            string            // NATNone, NATSingle or NATPerAZ; empty means NATNone
	// S3Endpoint adds a gateway endpoint for S3 to the private route tables, so S3 traffic
	// (ECR image layers among it) skips the NAT gateway's per-GB charge. It needs Region.
	S3Endpoint bool
	Region     string
	// FlowLogRetentionDays keeps VPC flow logs this long; flow logs are always on.
	FlowLogRetentionDays int
	// FlowLogKeyARN encrypts the flow-log group with a customer managed key; nil leaves
	// CloudWatch's default encryption (policy reports it, CKV_AWS_158).
	FlowLogKeyARN pulumi.StringInput
	// Roles places the flow-log role under the stack's IAM path, bounded by its boundary.
	Roles iampolicy.RoleScope
	Tags  map[string]string
}

// Network is the VPC of one stack.
type Network struct {
	pulumi.ResourceState
	VpcID            pulumi.IDOutput          `pulumi:"vpcId"`
	PublicSubnetIDs  pulumi.StringArrayOutput `pulumi:"publicSubnetIds"`  // sorted by zone
	PrivateSubnetIDs pulumi.StringArrayOutput `pulumi:"privateSubnetIds"` // sorted by zone
	FlowLogGroupName pulumi.StringOutput      `pulumi:"flowLogGroupName"`
}

func (a *NetworkArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	if a.CIDR == "" {
		return errors.New("CIDR is required")
	}
	if len(a.PublicSubnets) == 0 {
		return errors.New("PublicSubnets needs at least one zone")
	}
	if !slices.Equal(sortedZones(a.PublicSubnets), sortedZones(a.PrivateSubnets)) {
		return errors.New("PrivateSubnets must cover the same zones as PublicSubnets")
	}
	if !slices.Contains([]string{"", NATNone, NATSingle, NATPerAZ}, a.NAT) {
		return fmt.Errorf("NAT %q is not none, single or perAz", a.NAT)
	}
	if a.FlowLogRetentionDays <= 0 {
		return errors.New("FlowLogRetentionDays must be positive")
	}
	if a.S3Endpoint && a.Region == "" {
		return errors.New("S3Endpoint needs Region (the endpoint's service name is com.amazonaws.<region>.s3)")
	}
	return nil
}

// NewNetwork creates the VPC, its subnets, gateways, routes and flow logs.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}
	n := &Network{}
	if err := ctx.RegisterComponentResource("immutable-edge:network:Network", name, n, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(n)
	named := func(role string) pulumi.StringMap { return tags.Named(args.Tags, name+"-"+role) }

	vpc, err := ec2.NewVpc(ctx, name+"-vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(args.CIDR),
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true), // SSM and ECR endpoints resolve by name
		Tags:               named("vpc"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("network %s: vpc: %w", name, err)
	}
	// Adopting the default security group with no rules leaves it denying everything (CKV2_AWS_12).
	if _, err := ec2.NewDefaultSecurityGroup(ctx, name+"-default-sg", &ec2.DefaultSecurityGroupArgs{
		VpcId: vpc.ID(),
		Tags:  named("default-deny-all"),
	}, parent); err != nil {
		return nil, fmt.Errorf("network %s: default security group: %w", name, err)
	}
	igw, err := ec2.NewInternetGateway(ctx, name+"-igw", &ec2.InternetGatewayArgs{VpcId: vpc.ID(), Tags: named("igw")}, parent)
	if err != nil {
		return nil, fmt.Errorf("network %s: internet gateway: %w", name, err)
	}
	public, err := n.publicSubnets(ctx, name, args, vpc, igw, named)
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}
	private, routes, err := n.privateSubnets(ctx, name, args, vpc, public, named)
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}
	if args.S3Endpoint {
		if err := s3Endpoint(ctx, name, args, vpc, routes, parent); err != nil {
			return nil, fmt.Errorf("network %s: S3 endpoint: %w", name, err)
		}
	}
	group, err := newFlowLogs(ctx, name, vpc, args, parent)
	if err != nil {
		return nil, fmt.Errorf("network %s: flow logs: %w", name, err)
	}

	n.VpcID = vpc.ID()
	n.PublicSubnetIDs = subnetIDs(public)
	n.PrivateSubnetIDs = subnetIDs(private)
	n.FlowLogGroupName = group.Name
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":            n.VpcID,
		"publicSubnetIds":  n.PublicSubnetIDs,
		"privateSubnetIds": n.PrivateSubnetIDs,
		"flowLogGroupName": n.FlowLogGroupName,
	})
}

// publicSubnets creates one public subnet per zone behind one route table to the internet gateway.
func (n *Network) publicSubnets(ctx *pulumi.Context, name string, args *NetworkArgs, vpc *ec2.Vpc,
	igw *ec2.InternetGateway, named func(string) pulumi.StringMap) (map[string]*ec2.Subnet, error) {
	parent := pulumi.Parent(n)
	rt, err := ec2.NewRouteTable(ctx, name+"-public-rt", &ec2.RouteTableArgs{VpcId: vpc.ID(), Tags: named("public")}, parent)
	if err != nil {
		return nil, fmt.Errorf("public route table: %w", err)
	}
	if _, err := ec2.NewRoute(ctx, name+"-public-default", &ec2.RouteArgs{
		RouteTableId:         rt.ID(),
		DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
		GatewayId:            igw.ID(),
	}, parent); err != nil {
		return nil, fmt.Errorf("public default route: %w", err)
	}
	subnets := map[string]*ec2.Subnet{}
	for _, az := range sortedZones(args.PublicSubnets) {
		sn, err := ec2.NewSubnet(ctx, name+"-public-"+az, &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			AvailabilityZone: pulumi.String(az),
			CidrBlock:        pulumi.String(args.PublicSubnets[az]),
			// No automatic public IPs (CKV_AWS_130): what needs one asks for it explicitly.
			MapPublicIpOnLaunch: pulumi.Bool(false),
			Tags:                named("public-" + az),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("public subnet %s: %w", az, err)
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, name+"-public-"+az, &ec2.RouteTableAssociationArgs{
			SubnetId: sn.ID(), RouteTableId: rt.ID(),
		}, parent); err != nil {
			return nil, fmt.Errorf("public subnet %s route table: %w", az, err)
		}
		subnets[az] = sn
	}
	return subnets, nil
}

// privateSubnets creates one private subnet and route table per zone, routed to a NAT gateway
// in the same zone (perAz), in the first zone (single), or nowhere (none). It returns the route
// table ids in zone order too.
func (n *Network) privateSubnets(ctx *pulumi.Context, name string, args *NetworkArgs, vpc *ec2.Vpc,
	public map[string]*ec2.Subnet, named func(string) pulumi.StringMap) (map[string]*ec2.Subnet, pulumi.StringArray, error) {
	parent := pulumi.Parent(n)
	zones := sortedZones(args.PrivateSubnets)
	nats := map[string]*ec2.NatGateway{}
	for i, az := range zones {
		if args.NAT == NATPerAZ || (args.NAT == NATSingle && i == 0) {
			eip, err := ec2.NewEip(ctx, name+"-nat-"+az, &ec2.EipArgs{Domain: pulumi.String("vpc"), Tags: named("nat-" + az)}, parent)
			if err != nil {
				return nil, nil, fmt.Errorf("NAT address %s: %w", az, err)
			}
			nat, err := ec2.NewNatGateway(ctx, name+"-nat-"+az, &ec2.NatGatewayArgs{
				AllocationId: eip.ID(), SubnetId: public[az].ID(), Tags: named("nat-" + az),
			}, parent)
			if err != nil {
				return nil, nil, fmt.Errorf("NAT gateway %s: %w", az, err)
			}
			nats[az] = nat
		}
	}
	subnets := map[string]*ec2.Subnet{}
	var routes pulumi.StringArray
	for _, az := range zones {
		sn, err := ec2.NewSubnet(ctx, name+"-private-"+az, &ec2.SubnetArgs{
			VpcId:               vpc.ID(),
			AvailabilityZone:    pulumi.String(az),
			CidrBlock:           pulumi.String(args.PrivateSubnets[az]),
			MapPublicIpOnLaunch: pulumi.Bool(false),
			Tags:                named("private-" + az),
		}, parent)
		if err != nil {
			return nil, nil, fmt.Errorf("private subnet %s: %w", az, err)
		}
		rt, err := ec2.NewRouteTable(ctx, name+"-private-"+az, &ec2.RouteTableArgs{VpcId: vpc.ID(), Tags: named("private-" + az)}, parent)
		if err != nil {
			return nil, nil, fmt.Errorf("private route table %s: %w", az, err)
		}
		routes = append(routes, rt.ID().ToStringOutput())
		if nat := natFor(nats, zones, az, args.NAT); nat != nil {
			if _, err := ec2.NewRoute(ctx, name+"-private-"+az+"-default", &ec2.RouteArgs{
				RouteTableId: rt.ID(), DestinationCidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat.ID(),
			}, parent); err != nil {
				return nil, nil, fmt.Errorf("private default route %s: %w", az, err)
			}
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, name+"-private-"+az, &ec2.RouteTableAssociationArgs{
			SubnetId: sn.ID(), RouteTableId: rt.ID(),
		}, parent); err != nil {
			return nil, nil, fmt.Errorf("private subnet %s route table: %w", az, err)
		}
		subnets[az] = sn
	}
	return subnets, routes, nil
}

// s3Endpoint routes S3 from the private subnets through a gateway endpoint: no hourly or per-GB
// charge ("Gateway endpoints ... come at no additional charge", AWS Prescriptive Guidance,
// https://docs.aws.amazon.com/prescriptive-guidance/latest/aws-startup-security-baseline/wkld-12.html),
// and ECR keeps image layers in S3, so pulls reach them through it
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html). Its default
// policy allows any S3 request the caller's own IAM policy allows: the instance role decides.
func s3Endpoint(ctx *pulumi.Context, name string, args *NetworkArgs, vpc *ec2.Vpc, routes pulumi.StringArray, parent pulumi.ResourceOption) error {
	_, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           vpc.ID(),
		ServiceName:     pulumi.String("com.amazonaws." + args.Region + ".s3"),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   routes,
		Tags:            tags.Named(args.Tags, name+"-s3"),
	}, parent)
	return err
}

func natFor(nats map[string]*ec2.NatGateway, zones []string, az, mode string) *ec2.NatGateway {
	switch mode {
	case NATPerAZ:
		return nats[az]
	case NATSingle:
		return nats[zones[0]]
	}
	return nil
}

// newFlowLogs sends every VPC flow to a log group through a role that can write only there.
func newFlowLogs(ctx *pulumi.Context, name string, vpc *ec2.Vpc, args *NetworkArgs, parent pulumi.ResourceOption) (*cloudwatch.LogGroup, error) {
	group, err := cloudwatch.NewLogGroup(ctx, name+"-flow-logs", &cloudwatch.LogGroupArgs{
		NamePrefix:      pulumi.String("/immutable-edge/" + name + "/flow-logs-"),
		RetentionInDays: pulumi.Int(args.FlowLogRetentionDays),
		KmsKeyId:        args.FlowLogKeyARN,
		Tags:            tags.Named(args.Tags, name+"-flow-logs"),
	}, parent)
	if err != nil {
		return nil, err
	}
	role, err := newFlowLogRole(ctx, name, group, args.Roles, args.Tags, parent)
	if err != nil {
		return nil, err
	}
	_, err = ec2.NewFlowLog(ctx, name+"-flow-log", &ec2.FlowLogArgs{
		VpcId:                  vpc.ID(),
		TrafficType:            pulumi.String("ALL"),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             role.Arn,
		MaxAggregationInterval: pulumi.Int(60),
		Tags:                   tags.Named(args.Tags, name+"-flow-log"),
	}, parent)
	return group, err
}

func sortedZones(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

func subnetIDs(subnets map[string]*ec2.Subnet) pulumi.StringArrayOutput {
	var ids pulumi.StringArray
	for _, az := range slices.Sorted(maps.Keys(subnets)) {
		ids = append(ids, subnets[az].ID().ToStringOutput())
	}
	return ids.ToStringArrayOutput()
}
