package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/immutable-edge/immutable-edge/internal/stack"
)

// Project is the Pulumi project name, as in Pulumi.yaml.
const Project = "immutable-edge"

// Environment is what the mocked account looks like.
type Environment struct {
	Region     string
	Zones      []string          // what getAvailabilityZones returns
	Parameters map[string]string // SSM parameter name → value (the AMI ids)
	Secrets    map[string]string // secret name → value, of SSM SecureStrings and Secrets Manager
}

// SecretValues are what the mocked account holds behind the committed stacks' secret
// references (SSM parameters and Secrets Manager secrets, by name). The mocks answer reads of
// them, so a program that resolved a secret at deploy time would carry its value into the plan,
// where the tests look for it.
var SecretValues = map[string]string{
	"/immutable-edge/voting/session-key": "s3ssion-Tr0ub4dor-3-horse",
	"immutable-edge/voting/webhook":      `{"token":"w3bhook-t0ken-9f2e1d"}`,
}

// CacheToken is the auth token the mocked random provider makes for a cache: a secret the
// program itself creates, so it must reach neither the plan nor user-data either.
const CacheToken = "r4nd0m-c4che-t0ken-0123456789abcdef"

// DefaultAMI is the AMI id every SSM parameter holds unless an Environment says otherwise.
const DefaultAMI = "ami-0123456789abcdef0"

// envFor is the default mocked account for a config: three zones in its region and an AMI
// behind the stack's image parameter.
func envFor(cfg Config, stackName string) Environment {
	region := cfg["aws:region"]
	if region == "" {
		region = "eu-central-1"
	}
	param := "/" + Project + "/" + stackName + "/ami-id"
	var image struct {
		Parameter string `json:"parameter"`
	}
	if json.Unmarshal([]byte(cfg[Project+":image"]), &image) == nil && image.Parameter != "" {
		param = image.Parameter
	}
	return Environment{
		Region:     region,
		Zones:      []string{region + "a", region + "b", region + "c"},
		Parameters: map[string]string{param: DefaultAMI},
		Secrets:    SecretValues,
	}
}

// Run plans a stack from a config file; an empty path means Pulumi.<stack>.yaml at the repo root.
func Run(stackName, configFile string) (*Plan, error) {
	if configFile == "" {
		root, err := Root()
		if err != nil {
			return nil, err
		}
		configFile = filepath.Join(root, "Pulumi."+stackName+".yaml")
	}
	cfg, err := ReadConfigFile(configFile)
	if err != nil {
		return nil, err
	}
	return RunConfig(stackName, cfg, nil)
}

// RunConfig plans stack.Deploy for a raw config map; a nil env means the default account.
func RunConfig(stackName string, cfg Config, env *Environment) (*Plan, error) {
	return RunProgram(stackName, cfg, env, stack.Deploy)
}

// running serialises runs: the program reads its config from PULUMI_CONFIG, as under the
// Pulumi language host, and the environment is one per process.
var running sync.Mutex

// RunProgram runs any Pulumi program under the recording mocks; component tests use it.
func RunProgram(stackName string, cfg Config, env *Environment, program pulumi.RunFunc) (*Plan, error) {
	return RunProject(Project, stackName, cfg, env, program)
}

// RunProject runs a program of another Pulumi project (account/) under the same mocks.
func RunProject(project, stackName string, cfg Config, env *Environment, program pulumi.RunFunc) (*Plan, error) {
	if env == nil {
		e := envFor(cfg, stackName)
		env = &e
	}
	encoded, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	running.Lock()
	defer running.Unlock()
	old, had := os.LookupEnv(pulumi.EnvConfig)
	if err := os.Setenv(pulumi.EnvConfig, string(encoded)); err != nil {
		return nil, err
	}
	defer func() {
		// Setenv fails only for an invalid name, and this one was just set.
		if had {
			_ = os.Setenv(pulumi.EnvConfig, old)
		} else {
			_ = os.Unsetenv(pulumi.EnvConfig)
		}
	}()

	m := &mocks{project: project, stack: stackName, env: *env}
	outputs := make(chan map[string]any, 1)
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		if err := program(ctx); err != nil {
			return err
		}
		pulumi.Map(ctx.GetCurrentExportMap()).ToMapOutput().ApplyT(func(v map[string]any) map[string]any {
			outputs <- v
			return v
		})
		return nil
	}, pulumi.WithMocks(project, stackName, m))
	p := &Plan{Project: project, Stack: stackName, Resources: m.resources, Reads: uniqueReads(m.reads), Config: cfg}
	sort.Slice(p.Resources, func(i, j int) bool { return p.Resources[i].URN < p.Resources[j].URN })
	if err != nil {
		return p, err
	}
	select {
	case p.Outputs = <-outputs:
	case <-time.After(30 * time.Second):
		return p, errors.New("plan: stack outputs never resolved")
	}
	return p, nil
}

// MaxConfigFile is the largest stack config file read: sixteen times the committed ones (under
// 4 KB), and small enough that a hostile file fails before YAML parsing could take time.
const MaxConfigFile = 64 * 1024

// ReadConfigFile reads the config: block of a Pulumi.<stack>.yaml into the form the Pulumi CLI
// hands a program: scalars as their text, structured values JSON-encoded.
func ReadConfigFile(path string) (Config, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > MaxConfigFile {
		return nil, fmt.Errorf("%s: %d bytes; a stack config may have at most %d", path, fi.Size(), MaxConfigFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfigFile(path, b)
}

// ParseConfigFile is ReadConfigFile on a file's bytes. yaml.v3 refuses a key given twice in one
// mapping (at any depth), so a duplicate never silently wins.
func ParseConfigFile(path string, b []byte) (Config, error) {
	if len(b) > MaxConfigFile {
		return nil, fmt.Errorf("%s: %d bytes; a stack config may have at most %d", path, len(b), MaxConfigFile)
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make(Config, len(doc.Config))
	for k, v := range doc.Config {
		switch v := v.(type) {
		case string:
			out[k] = v
		case bool:
			out[k] = strconv.FormatBool(v)
		case int:
			out[k] = strconv.Itoa(v)
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case nil:
			out[k] = ""
		case map[string]any:
			if _, secret := v["secure"]; secret && len(v) == 1 {
				return nil, fmt.Errorf("%s: %s is a secret; the offline plan cannot decrypt it", path, k)
			}
			j, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", path, k, err)
			}
			out[k] = string(j)
		default:
			j, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", path, k, err)
			}
			out[k] = string(j)
		}
	}
	return out, nil
}

// Root returns the repository root: the nearest directory upwards holding Pulumi.yaml.
func Root() (string, error) { return stack.ProjectDir() }

// uniqueReads sorts the reads by token and arguments and drops repeats: a program that asks the
// same thing twice read it once, as far as the plan's reader is concerned.
func uniqueReads(reads []Read) []Read {
	key := func(r Read) string {
		b, _ := json.Marshal(r.Args)
		return r.Token + " " + string(b)
	}
	sort.SliceStable(reads, func(i, j int) bool { return key(reads[i]) < key(reads[j]) })
	var out []Read
	for i, r := range reads {
		if i > 0 && key(reads[i-1]) == key(r) {
			continue
		}
		out = append(out, r)
	}
	return out
}
