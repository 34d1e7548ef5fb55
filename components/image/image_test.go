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
)

// templateCopy copies the repository's images/ into a temp dir, so a test can change it.
func templateCopy(t *testing.T) string {
	t.Helper()
	root, err := plan.Root()
	require.NoError(t, err)
	dst := t.TempDir()
	src := filepath.Join(root, "images")
	require.NoError(t, filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	}))
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
		TemplateDir: "/src/images", ContentHash: strings.Repeat("ab", 32), Region: "eu-central-1",
		Channel: "dev", Architecture: "arm64", Parameter: "/immutable-edge/dev/ami-id",
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
	require.Equal(t, "/src/images", build.Str("dir"))
	require.Equal(t, "./build.sh", build.Str("create"))
	require.Equal(t, "./build.sh", build.Str("update"), "a changed hash rebuilds in place: the previous AMI stays for rollback")
	require.True(t, build.Get("triggers").IsNull(), "no triggers: they would replace the command and delete the previous AMI")
	require.Equal(t, strings.Repeat("ab", 32), build.Str("environment.CONTENT_HASH"))
	require.Equal(t, "arm64", build.Str("environment.ARCHITECTURE"))
	require.Equal(t, "./deregister.sh", build.Str("delete"))

	param, ok := p.Find("aws:ssm/parameter:Parameter", "dev-ami")
	require.True(t, ok)
	require.Equal(t, "/immutable-edge/dev/ami-id", param.Str("name"))
	require.Equal(t, "String", param.Str("type"))
	require.Equal(t, "aws:ec2:image", param.Str("dataType"))
	require.Equal(t, plan.BuiltAMI, param.Str("insecureValue"), "the id Packer printed, trimmed, in clear")
	require.Equal(t, plan.BuiltAMI, p.Outputs["imageId"])
}

func TestRetainOnDeleteKeepsTheImage(t *testing.T) {
	a := args(t)
	a.RetainOnDelete = true
	p, err := run(t, a)
	require.NoError(t, err)
	build, _ := p.Find("command:local:Command", "dev-build")
	require.True(t, build.Get("delete").IsNull())
}

func TestImageRejectsBadArgs(t *testing.T) {
	for name, edit := range map[string]func(*image.GoldenImageArgs){
		"relative dir": func(a *image.GoldenImageArgs) { a.TemplateDir = "images" },
		"no hash":      func(a *image.GoldenImageArgs) { a.ContentHash = "" },
		"unknown arch": func(a *image.GoldenImageArgs) { a.Architecture = "riscv64" },
		"no parameter": func(a *image.GoldenImageArgs) { a.Parameter = "" },
	} {
		a := args(t)
		edit(a)
		p, err := run(t, a)
		require.ErrorContains(t, err, "image dev: ", name)
		require.Empty(t, p.Resources, name)
	}
}
