package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// BuiltAMI is the AMI id a mocked Packer build produces.
const BuiltAMI = "ami-0fedcba9876543210"

// Account is the AWS account id the mocks answer with.
const Account = "123456789012"

// mocks echoes each resource's inputs as its state, adds only the outputs the program reads
// (ARNs, names, URLs, the launch template version), answers the data sources it calls, and
// records every registration.
type mocks struct {
	project, stack string
	env            Environment

	mu        sync.Mutex
	resources []Resource
	reads     []Read
	regions   map[string]string // explicit provider id → its region
}

func (m *mocks) NewResource(a pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rpc := a.RegisterRPC
	parent := rpc.GetParent()
	rec := Resource{
		URN:                 m.urn(parent, a.TypeToken, a.Name),
		Type:                a.TypeToken,
		Name:                a.Name,
		Parent:              parent,
		DependsOn:           append([]string(nil), rpc.GetDependencies()...),
		Custom:              a.Custom,
		Protect:             rpc.GetProtect(),
		IgnoreChanges:       append([]string(nil), rpc.GetIgnoreChanges()...),
		DeleteBeforeReplace: rpc.GetDeleteBeforeReplace(),
		Inputs:              redacted(a.Inputs),
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec.Region = m.env.Region
	// A provider reference is "<provider URN>::<provider id>".
	if i := strings.LastIndex(a.Provider, "::"); i >= 0 && m.regions[a.Provider[i+2:]] != "" {
		rec.Region = m.regions[a.Provider[i+2:]]
	}
	id, out := m.state(a, rec.Region)
	rec.ID = id
	if a.TypeToken == "pulumi:providers:aws" {
		if m.regions == nil {
			m.regions = map[string]string{}
		}
		if r, ok := a.Inputs["region"]; ok && r.IsString() {
			m.regions[id] = r.StringValue()
		}
	}
	m.resources = append(m.resources, rec)
	return id, out, nil
}

// Redacted is what the plan shows for an input Pulumi holds as a secret, as pulumi preview does.
const Redacted = "[secret]"

// redacted copies inputs with every secret value replaced by Redacted.
func redacted(in resource.PropertyMap) resource.PropertyMap {
	out := resource.PropertyMap{}
	for k, v := range in {
		out[k] = redactValue(v)
	}
	return out
}

func redactValue(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return resource.NewProperty(Redacted)
	case v.IsObject():
		return resource.NewProperty(redacted(v.ObjectValue()))
	case v.IsArray():
		items := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			items[i] = redactValue(e)
		}
		return resource.NewProperty(items)
	}
	return v
}

// state is the id and output state the mocked provider returns for a resource.
func (m *mocks) state(a pulumi.MockResourceArgs, region string) (string, resource.PropertyMap) {
	if !a.Custom {
		return "", resource.PropertyMap{}
	}
	id := a.Name + "-id"
	out := a.Inputs.Copy()
	name := physicalName(a)
	if _, ok := out["name"]; !ok {
		out["name"] = resource.NewProperty(name)
	}
	out["arn"] = resource.NewProperty(arn(region, a.TypeToken, name))
	switch a.TypeToken {
	case "aws:ec2/launchTemplate:LaunchTemplate":
		out["latestVersion"] = resource.NewProperty(1.0)
		id = "lt-" + hexOf(a.Name) // the provider checks the form where a group names it
	case "aws:ecr/repository:Repository":
		out["repositoryUrl"] = resource.NewProperty(fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", Account, m.env.Region, name))
	case "aws:ec2/eip:Eip":
		out["publicIp"] = resource.NewProperty("198.51.100.10") // TEST-NET-2: documentation range
		out["allocationId"] = resource.NewProperty("eipalloc-" + a.Name)
	case "aws:s3/bucketV2:BucketV2":
		out["bucket"] = resource.NewProperty(name)
		out["arn"] = resource.NewProperty("arn:aws:s3:::" + name)
		id = name
	case "aws:lb/loadBalancer:LoadBalancer":
		out["dnsName"] = resource.NewProperty(a.Name + "-1234567890." + m.env.Region + ".elb.amazonaws.com")
		out["zoneId"] = resource.NewProperty("Z215JYRZR1TBD5") // the ALB hosted zone of eu-central-1
		out["arn"] = resource.NewProperty(arn(region, a.TypeToken, "app/"+a.Name+"/0123456789abcdef"))
		out["arnSuffix"] = resource.NewProperty("app/" + a.Name + "/0123456789abcdef")
	case "aws:lb/targetGroup:TargetGroup":
		out["arn"] = resource.NewProperty(arn(region, a.TypeToken, a.Name+"/0123456789abcdef"))
		out["arnSuffix"] = resource.NewProperty("targetgroup/" + a.Name + "/0123456789abcdef")
	case "aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile", "aws:iam/policy:Policy":
		kind, path := map[string]string{
			"aws:iam/role:Role": "role", "aws:iam/instanceProfile:InstanceProfile": "instance-profile", "aws:iam/policy:Policy": "policy",
		}[a.TypeToken], "/"
		if p, ok := a.Inputs["path"]; ok && p.IsString() {
			path = p.StringValue()
		}
		out["arn"] = resource.NewProperty(fmt.Sprintf("arn:aws:iam::%s:%s%s%s", Account, kind, path, name))
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		host := strings.TrimPrefix(a.Inputs["url"].StringValue(), "https://")
		out["arn"] = resource.NewProperty(fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", Account, host))
	case "aws:kms/key:Key":
		out["keyId"] = resource.NewProperty("0123abcd-" + a.Name)
		out["arn"] = resource.NewProperty(fmt.Sprintf("arn:aws:kms:%s:%s:key/0123abcd-%s", region, Account, a.Name))
	case "aws:route53/healthCheck:HealthCheck":
		id = "0123abcd-hc-" + a.Name
		out["arn"] = resource.NewProperty("arn:aws:route53:::healthcheck/" + id)
	case "aws:acm/certificate:Certificate":
		out["domainValidationOptions"] = validationOptions(a.Inputs)
	case "aws:acm/certificateValidation:CertificateValidation":
		out["certificateArn"] = a.Inputs["certificateArn"]
	case "aws:route53/record:Record":
		out["fqdn"] = a.Inputs["name"]
	case "aws:rds/instance:Instance":
		out["address"] = resource.NewProperty(name + ".c0ffee0123ab." + m.env.Region + ".rds.amazonaws.com")
		out["port"] = resource.NewProperty(5432.0)
		out["arn"] = resource.NewProperty(fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", region, Account, name))
		// RDS names the secret it manages rds!db-<uuid> (rds-secrets-manager.html).
		out["masterUserSecrets"] = resource.NewProperty([]resource.PropertyValue{resource.NewProperty(resource.PropertyMap{
			"secretArn":    resource.NewProperty(fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:rds!db-0123abcd-%s-AbCdEf", region, Account, a.Name)),
			"kmsKeyId":     a.Inputs["masterUserSecretKmsKeyId"],
			"secretStatus": resource.NewProperty("active"),
		})})
	case "aws:elasticache/replicationGroup:ReplicationGroup":
		out["primaryEndpointAddress"] = resource.NewProperty("master." + name + ".abc123.euc1.cache.amazonaws.com")
	case "aws:secretsmanager/secret:Secret":
		out["arn"] = resource.NewProperty(fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-AbCdEf", region, Account, name))
	case "random:index/randomPassword:RandomPassword":
		out["result"] = resource.MakeSecret(resource.NewProperty(CacheToken))
	case "command:local:Command":
		out["stdout"] = resource.NewProperty(BuiltAMI + "\n") // what images/build.sh prints
		out["stderr"] = resource.NewProperty("")
	}
	return id, out
}

func (m *mocks) Call(a pulumi.MockCallArgs) (resource.PropertyMap, error) {
	out, err := m.answer(a)
	if err == nil {
		m.mu.Lock()
		m.reads = append(m.reads, Read{Token: a.Token, Args: a.Args.Mappable(), Result: out.Mappable()})
		m.mu.Unlock()
	}
	return out, err
}

// answer is what the mocked account returns for a data source.
func (m *mocks) answer(a pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch a.Token {
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		ids := make([]string, len(m.env.Zones))
		for i := range ids {
			ids[i] = fmt.Sprintf("euc1-az%d", i+1)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"names": m.env.Zones, "zoneIds": ids, "id": m.env.Region}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": Account, "id": Account, "userId": "AIDAMOCK",
			"arn": "arn:aws:sts::" + Account + ":assumed-role/deploy/mock",
		}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{
			"partition": "aws", "id": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws",
		}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{"name": m.env.Region, "id": m.env.Region}), nil
	case "aws:ssm/getParameter:getParameter":
		name := a.Args["name"].StringValue()
		ami, ok := m.env.Parameters[name]
		if secret, isSecret := m.env.Secrets[name]; isSecret && !ok {
			return resource.NewPropertyMapFromMap(map[string]any{
				"name": name, "type": "SecureString", "value": secret, "insecureValue": secret, "id": name,
				"arn": fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", m.env.Region, Account, name),
			}), nil
		}
		if !ok {
			return nil, fmt.Errorf("mock: SSM parameter %s not found", name)
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": name, "type": "String", "value": ami, "insecureValue": ami, "id": name,
			"arn": fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", m.env.Region, Account, name),
		}), nil
	}
	return nil, fmt.Errorf("mock: no answer for data source %s; add one to internal/plan", a.Token)
}

// validationOptions answers like ACM: one CNAME per name on the certificate.
func validationOptions(in resource.PropertyMap) resource.PropertyValue {
	names := []string{in["domainName"].StringValue()}
	if sans, ok := in["subjectAlternativeNames"]; ok && sans.IsArray() {
		for _, v := range sans.ArrayValue() {
			names = append(names, v.StringValue())
		}
	}
	var opts []any
	for _, n := range names {
		opts = append(opts, map[string]any{
			"domainName": n, "resourceRecordType": "CNAME",
			"resourceRecordName":  "_0123456789abcdef." + n + ".",
			"resourceRecordValue": "_fedcba9876543210.acm-validations.aws.",
		})
	}
	return resource.NewPropertyValue(opts)
}

// urn is the URN the engine gives a resource, the same formula the mock monitor uses.
func (m *mocks) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(typ), name))
}

// UniqueSuffix stands in for the unique suffix AWS appends to a namePrefix or bucketPrefix.
const UniqueSuffix = "20261123000000000001"

// physicalName is the name AWS would show: the given name, a prefix plus UniqueSuffix, or the
// logical name.
func physicalName(a pulumi.MockResourceArgs) string {
	if n := givenName(a.Inputs); n != "" {
		return n
	}
	return a.Name
}

// givenName is the name the inputs fix: the name input, or a prefix input plus UniqueSuffix;
// empty when the provider names the resource itself.
func givenName(inputs resource.PropertyMap) string {
	for _, name := range []resource.PropertyKey{"name", "identifier", "replicationGroupId"} {
		if v, ok := inputs[name]; ok && v.IsString() {
			return v.StringValue()
		}
	}
	for _, prefix := range []resource.PropertyKey{"namePrefix", "bucketPrefix"} {
		if v, ok := inputs[prefix]; ok && v.IsString() {
			return v.StringValue() + UniqueSuffix
		}
	}
	return ""
}

// arn builds a plausible ARN in a region for a type token like aws:ec2/vpc:Vpc.
func arn(region, token, name string) string {
	service, kind := "unknown", "resource"
	if mod, typ, ok := strings.Cut(strings.TrimPrefix(token, "aws:"), ":"); ok {
		service, _, _ = strings.Cut(mod, "/")
		kind = strings.ToLower(typ[:1]) + typ[1:]
	}
	switch service {
	case "iam":
		return fmt.Sprintf("arn:aws:iam::%s:%s/%s", Account, kind, name)
	case "cloudwatch":
		switch kind {
		case "metricAlarm":
			return fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", region, Account, name)
		case "eventRule":
			return fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", region, Account, name)
		case "dashboard":
			return fmt.Sprintf("arn:aws:cloudwatch::%s:dashboard/%s", Account, name)
		case "logGroup":
		default:
			return fmt.Sprintf("arn:aws:cloudwatch:%s:%s:%s/%s", region, Account, kind, name)
		}
		return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", region, Account, name)
	case "ecr":
		return fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", region, Account, name)
	case "sns":
		if kind == "topic" {
			return fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, Account, name)
		}
	case "budgets":
		return fmt.Sprintf("arn:aws:budgets::%s:budget/%s", Account, name)
	case "s3":
		return "arn:aws:s3:::" + name
	case "lb":
		return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:%s/%s", region, Account, strings.ToLower(kind), name)
	}
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", service, region, Account, kind, name)
}

// hexOf is a stable 17-digit hex id for a logical name, the length EC2 ids have.
func hexOf(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])[:17]
}
