package image_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/components/image"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// templateCopy copies the repository's images/ into a temp dir, so a test can change it.
func templateCopy(t *testing.T) string {
	t.Helper()
	root, err := plan.Root()
	require.NoError(t, err)
	dst := t.TempDir()
	testtools.CopyTree(t, filepath.Join(root, "images"), dst)
	return dst
}

func hash(t *testing.T, dir string) string {
	t.Helper()
	h, err := image.ContentHash(dir)
	require.NoError(t, err)
	return h
}

func TestContentHashChangesExactlyWithTheImageInputs(t *testing.T) {
	dir := templateCopy(t)
	base := hash(t, dir)
	require.Equal(t, base, hash(t, templateCopy(t)), "same content, same hash, wherever it lives")

	for name, change := range map[string]func(string){
		"manifest.json": func(d string) {
			require.NoError(t, os.WriteFile(filepath.Join(d, "manifest.json"), []byte(`{"builds":[]}`), 0o644))
		},
		"image-manifest.json": func(d string) {
			require.NoError(t, os.WriteFile(filepath.Join(d, "image-manifest.json"), []byte(`{"packages":{}}`), 0o644))
		},
		"a Go test": func(d string) {
			require.NoError(t, os.WriteFile(filepath.Join(d, "x_test.go"), []byte("package x"), 0o644))
		},
	} {
		d := templateCopy(t)
		change(d)
		require.Equal(t, base, hash(t, d), "%s is not an input of the image", name)
	}
	for name, change := range map[string]func(string){
		"a provisioner": func(d string) { appendTo(t, filepath.Join(d, "scripts/20-haproxy.sh"), "# changed\n") },
		"a baked file": func(d string) {
			appendTo(t, filepath.Join(d, "files/usr/local/lib/immutable-edge/lib.sh"), "# changed\n")
		},
		"the template":    func(d string) { appendTo(t, filepath.Join(d, "golden.pkr.hcl"), "# changed\n") },
		"a script's mode": func(d string) { require.NoError(t, os.Chmod(filepath.Join(d, "scripts/10-base.sh"), 0o644)) },
		"a signing key":   func(d string) { appendTo(t, filepath.Join(d, "trust/aws-cli.asc"), "\n") },
		"a new file": func(d string) {
			require.NoError(t, os.WriteFile(filepath.Join(d, "files/etc-motd"), []byte("hi"), 0o644))
		},
	} {
		d := templateCopy(t)
		change(d)
		require.NotEqual(t, base, hash(t, d), "changing %s must rebuild the image", name)
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(s)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func args(t *testing.T) *image.GoldenImageArgs {
	return &image.GoldenImageArgs{
		Scripts: "images", ContentHash: strings.Repeat("ab", 32), Region: "eu-central-1",
		Channel: "dev", Architecture: "arm64", Parameter: "/immutable-edge/dev/ami-id",
		SubnetID: pulumi.String("subnet-0123456789abcdef0"), Project: "immutable-edge", Keep: 3,
		Tags: map[string]string{"Project": "immutable-edge"},
	}
}

func run(t *testing.T, a *image.GoldenImageArgs) (*plan.Plan, error) {
	t.Helper()
	return plan.RunProgram("dev", plan.Config{}, nil, func(ctx *pulumi.Context) error {
		img, err := image.NewGoldenImage(ctx, "dev", a)
		if err != nil {
			return err
		}
		ctx.Export("imageId", img.ImageID)
		return nil
	})
}

func TestBuildPublishesTheAMIToItsParameter(t *testing.T) {
	p, err := run(t, args(t))
	require.NoError(t, err)
	build, ok := p.Find("command:local:Command", "dev-build")
	require.True(t, ok)
	require.True(t, build.Get("dir").IsNull(), "no dir: the command runs from the project directory, and no path reaches the state")
	require.Equal(t, "images/build.sh", build.Str("create"))
	require.Equal(t, "images/build.sh", build.Str("update"), "a changed hash rebuilds in place: the previous AMI stays for rollback")
	require.True(t, build.Get("triggers").IsNull(), "no triggers: they would replace the command and run its delete")
	require.True(t, build.Get("delete").IsNull(), "retention, not the build, retires images")
	require.Equal(t, strings.Repeat("ab", 32), build.Str("environment.CONTENT_HASH"))
	require.Equal(t, "arm64", build.Str("environment.ARCHITECTURE"))
	require.Equal(t, "subnet-0123456789abcdef0", build.Str("environment.SUBNET_ID"), "Packer builds in the stack's subnet")

	param, ok := p.Find("aws:ssm/parameter:Parameter", "dev-ami")
	require.True(t, ok)
	require.Equal(t, "/immutable-edge/dev/ami-id", param.Str("name"))
	require.Equal(t, "String", param.Str("type"))
	require.Equal(t, "aws:ec2:image", param.Str("dataType"))
	require.Equal(t, plan.BuiltAMI, param.Str("insecureValue"), "the id Packer printed, trimmed, in clear")
	require.Equal(t, plan.BuiltAMI, p.Outputs["imageId"])
}

func TestRetentionRunsAfterEachBuildAndOnDestroy(t *testing.T) {
	p, err := run(t, args(t))
	require.NoError(t, err)
	prune, ok := p.Find("command:local:Command", "dev-retention")
	require.True(t, ok)
	build, _ := p.Find("command:local:Command", "dev-build")
	param, _ := p.Find("aws:ssm/parameter:Parameter", "dev-ami")
	require.True(t, prune.Get("dir").IsNull())
	require.Equal(t, "images/prune.sh", prune.Str("create"))
	require.Equal(t, "images/prune.sh", prune.Str("update"))
	require.Equal(t, "images/prune.sh --keep 0", prune.Str("delete"), "a destroy keeps only what something still references")
	require.Equal(t, map[string]string{
		"REGION": "eu-central-1", "CHANNEL": "dev", "PROJECT": "immutable-edge", "KEEP": "3",
		"ROLLBACK_VERSIONS": "5", "LATEST": plan.BuiltAMI,
	}, envOf(prune), "a new image (LATEST) or a new keep reruns retention; neither rebuilds")
	require.NotContains(t, envOf(build), "KEEP", "changing image.keep must not rebuild the image")
	require.Contains(t, prune.DependsOn, build.URN, "retention runs after the build it follows")
	require.Contains(t, param.DependsOn, prune.URN,
		"the parameter depends on retention, so a destroy deletes the parameter before retention runs with keep 0")
}

// envOf is a command's environment as plain strings.
func envOf(r plan.Resource) map[string]string {
	out := map[string]string{}
	for k, v := range r.Get("environment").ObjectValue() {
		out[string(k)] = v.StringValue()
	}
	return out
}

func TestRetainOnDeleteKeepsTheImages(t *testing.T) {
	a := args(t)
	a.RetainOnDelete = true
	p, err := run(t, a)
	require.NoError(t, err)
	prune, _ := p.Find("command:local:Command", "dev-retention")
	require.True(t, prune.Get("delete").IsNull())
	require.Equal(t, "images/prune.sh", prune.Str("update"), "retention still runs after each build")
}

func TestImageRejectsBadArgs(t *testing.T) {
	for name, edit := range map[string]func(*image.GoldenImageArgs){
		"absolute scripts dir":  func(a *image.GoldenImageArgs) { a.Scripts = "/src/images" },
		"scripts outside":       func(a *image.GoldenImageArgs) { a.Scripts = "../images" },
		"unclean scripts dir":   func(a *image.GoldenImageArgs) { a.Scripts = "./images" },
		"no hash":               func(a *image.GoldenImageArgs) { a.ContentHash = "" },
		"unknown arch":          func(a *image.GoldenImageArgs) { a.Architecture = "riscv64" },
		"no parameter":          func(a *image.GoldenImageArgs) { a.Parameter = "" },
		"no subnet":             func(a *image.GoldenImageArgs) { a.SubnetID = nil },
		"no project":            func(a *image.GoldenImageArgs) { a.Project = "" },
		"keeping no image":      func(a *image.GoldenImageArgs) { a.Keep = 0 },
		"project with a prefix": func(a *image.GoldenImageArgs) { a.Project = "/immutable-edge" },
	} {
		a := args(t)
		edit(a)
		p, err := run(t, a)
		require.ErrorContains(t, err, "image dev: ", name)
		require.Empty(t, p.Resources, name)
	}
}
