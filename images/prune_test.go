package images_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// channelImage is an image the dev channel built on day n of November, with one snapshot.
func channelImage(n int) image {
	return image{ID: fmt.Sprintf("ami-0%016d", n), Created: fmt.Sprintf("2026-11-%02dT10:00:00.000Z", n), State: "available",
		Tags:      map[string]string{"Project": "immutable-edge", "Channel": "dev", "Stack": "dev"},
		Snapshots: []string{fmt.Sprintf("snap-0%016d", n)}}
}

func ami(n int) string { return channelImage(n).ID }

// anAccount holds seven dev images (day 1 to 7) and what refers to them: dev's parameter names
// the newest; prod's names day 2, promoted but not rolled out yet; prod's launch template has
// nine versions and names day 4 inside the rollback window, day 1 only outside it; an instance
// someone started by hand runs day 3. Around them: an image of another project and one of the prod channel,
// and a SecureString whose value looks like an AMI id.
func anAccount() account {
	a := account{
		Parameters: map[string]string{"/immutable-edge/dev/ami-id": ami(7), "/immutable-edge/prod/ami-id": ami(2)},
		Secrets:    map[string]string{"/immutable-edge/prod/api/token": ami(5)},
		Templates: []template{
			{ID: "lt-0dev", Tags: map[string]string{"Project": "immutable-edge", "Stack": "dev"}, Default: 3,
				Versions: map[string]string{"1": ami(5), "2": ami(6), "3": ami(7)}},
			{ID: "lt-0prod", Tags: map[string]string{"Project": "immutable-edge", "Stack": "prod"}, Default: 9,
				Versions: map[string]string{"1": ami(1), "2": ami(1), "3": ami(1), "4": ami(1), "5": ami(4), "6": ami(4), "7": ami(4), "8": ami(4), "9": ami(4)}},
			{ID: "lt-0other", Tags: map[string]string{"Project": "someone-else"}, Default: 1, Versions: map[string]string{"1": ami(1)}},
		},
		Instances: []instance{{ID: "i-0hand", Image: ami(3), State: "running"}, {ID: "i-0gone", Image: ami(1), State: "terminated"}},
	}
	for n := 1; n <= 7; n++ {
		a.Images = append(a.Images, channelImage(n))
		a.Snapshots = append(a.Snapshots, channelImage(n).Snapshots...)
	}
	other := channelImage(8)
	other.ID, other.Tags["Project"], other.Snapshots = "ami-0other", "someone-else", []string{"snap-0other"}
	prod := channelImage(9)
	prod.ID, prod.Tags["Channel"], prod.Snapshots = "ami-0prodchannel", "prod", []string{"snap-0prodchannel"}
	a.Images = append(a.Images, other, prod)
	a.Snapshots = append(a.Snapshots, "snap-0other", "snap-0prodchannel")
	return a
}

var pruneEnv = []string{"REGION=eu-central-1", "CHANNEL=dev", "PROJECT=immutable-edge", "KEEP=3", "ROLLBACK_VERSIONS=5"}

// prune runs images/prune.sh against the fake account and returns the account afterwards.
func prune(t *testing.T, a account, args []string, env ...string) (after account, stderr string, calls []string, err error) {
	t.Helper()
	testtools.Need(t, "jq")
	fake, ferr := newFakeAccount(t.TempDir(), a)
	require.NoError(t, ferr)
	cmd := exec.Command("bash", append([]string{scriptCopy(t, "prune.sh")}, args...)...)
	cmd.Env = append(fake.env(), env...)
	var errb strings.Builder
	cmd.Stdout, cmd.Stderr = os.Stdout, &errb
	err = cmd.Run()
	after, rerr := fake.read()
	require.NoError(t, rerr)
	return after, errb.String(), fake.calls(), err
}

func imageIDs(a account) []string {
	var ids []string
	for _, im := range a.Images {
		ids = append(ids, im.ID)
	}
	return slices.Sorted(slices.Values(ids))
}

func sorted(s ...string) []string { return slices.Sorted(slices.Values(s)) }

func TestRetentionKeepsTheNewestAndEveryImageInUse(t *testing.T) {
	t.Parallel()
	after, stderr, calls, err := prune(t, anAccount(), nil, pruneEnv...)
	require.NoError(t, err, stderr)
	require.Equal(t, sorted(
		ami(7), ami(6), ami(5), // the newest three
		ami(2),                           // prod's parameter
		ami(4),                           // prod's launch template, versions 5 to 9
		ami(3),                           // a running instance
		"ami-0other", "ami-0prodchannel", // not this project's channel
	), imageIDs(after))
	require.NotContains(t, after.Snapshots, channelImage(1).Snapshots[0], "the retired image's snapshot goes with it")
	require.Len(t, after.Snapshots, len(anAccount().Snapshots)-1)
	require.Contains(t, stderr, "deregistered "+ami(1)+" and deleted 1 snapshot(s)")

	// Everything is read before the first deletion; instances are asked about the candidates only.
	first := slices.IndexFunc(calls, func(c string) bool { return strings.Contains(c, "deregister-image") })
	require.Positive(t, first)
	for _, c := range calls[first:] {
		require.NotContains(t, c, "describe", "a read after the first deletion: %s", c)
	}
	require.Contains(t, calls, "aws ec2 describe-instances --filters Name=image-id,Values="+ami(3)+","+ami(1)+
		" Name=instance-state-name,Values=pending,running,stopping,stopped --region eu-central-1 --output json")
	require.Contains(t, calls, "aws ssm get-parameters-by-path --region eu-central-1 --output json --path /immutable-edge --recursive --parameter-filters Key=Type,Values=String",
		"String parameters only: a secret's value is never read")
}

func TestRetentionOnDestroyLeavesWhatOtherStacksUse(t *testing.T) {
	t.Parallel()
	// By the time the delete command runs, the destroy has removed dev's parameter and launch
	// template (they depend on it); prod's are what is left.
	a := anAccount()
	delete(a.Parameters, "/immutable-edge/dev/ami-id")
	a.Templates = slices.DeleteFunc(a.Templates, func(tp template) bool { return tp.ID == "lt-0dev" })
	after, stderr, _, err := prune(t, a, []string{"--keep", "0"}, pruneEnv...)
	require.NoError(t, err, stderr)
	require.Equal(t, sorted(ami(2), ami(4), ami(3), "ami-0other", "ami-0prodchannel"), imageIDs(after),
		"prod's AMI, prod's rollback window and a running instance's image stay; the rest of dev's channel goes")
	require.ElementsMatch(t, []string{channelImage(2).Snapshots[0], channelImage(3).Snapshots[0], channelImage(4).Snapshots[0],
		"snap-0other", "snap-0prodchannel"}, after.Snapshots)
}

func TestRetentionWindowAndDefaultVersion(t *testing.T) {
	t.Parallel()
	a := anAccount()
	// prod rolled back by hand to version 1 as the default: its image is in use again.
	a.Templates[1].Default = 1
	after, stderr, _, err := prune(t, a, nil, pruneEnv...)
	require.NoError(t, err, stderr)
	require.Contains(t, imageIDs(after), ami(1), "the default version's image is in use")

	a = anAccount()
	after, _, _, err = prune(t, a, nil, append(pruneEnv, "ROLLBACK_VERSIONS=9")...)
	require.NoError(t, err)
	require.Contains(t, imageIDs(after), ami(1), "a wider window reaches version 1")
}

func TestRetentionWithNothingToRetire(t *testing.T) {
	t.Parallel()
	a := anAccount()
	a.Images = a.Images[5:7] // days 6 and 7
	after, stderr, calls, err := prune(t, a, nil, pruneEnv...)
	require.NoError(t, err, stderr)
	require.Equal(t, imageIDs(a), imageIDs(after))
	require.Contains(t, stderr, "retiring 0")
	for _, c := range calls {
		require.NotRegexp(t, "deregister-image|delete-snapshot|describe-instances", c)
	}
}

func TestRetentionLeavesAPendingBuildAlone(t *testing.T) {
	t.Parallel()
	a := anAccount()
	a.Templates = a.Templates[1:] // day 5 is only kept for being among the newest three
	building := channelImage(8)
	building.State, building.Created = "pending", "2026-11-30T10:00:00.000Z"
	a.Images = append(a.Images, building)
	after, _, _, err := prune(t, a, nil, pruneEnv...)
	require.NoError(t, err)
	require.Contains(t, imageIDs(after), building.ID)
	require.Contains(t, imageIDs(after), ami(5), "a pending image does not take an available one's place")
}

func TestRetentionKeepsASnapshotAnotherImageUses(t *testing.T) {
	t.Parallel()
	a := anAccount()
	a.Images[0].Snapshots = append(a.Images[0].Snapshots, channelImage(7).Snapshots[0]) // day 1 shares day 7's
	after, stderr, _, err := prune(t, a, nil, pruneEnv...)
	require.NoError(t, err, stderr)
	require.NotContains(t, imageIDs(after), ami(1))
	require.Contains(t, after.Snapshots, channelImage(7).Snapshots[0])
	require.NotContains(t, after.Snapshots, channelImage(1).Snapshots[0])
}

func TestRetentionDeletesNothingWhenAReadFails(t *testing.T) {
	t.Parallel()
	for _, call := range []string{"ec2 describe-images", "ssm get-parameters-by-path", "ec2 describe-launch-templates",
		"ec2 describe-launch-template-versions", "ec2 describe-instances"} {
		a := anAccount()
		a.Fail = map[string]string{call: "UnauthorizedOperation"}
		after, stderr, calls, err := prune(t, a, nil, pruneEnv...)
		require.Error(t, err, call)
		require.Contains(t, stderr, "nothing was deregistered", call)
		require.Contains(t, stderr, "UnauthorizedOperation", "%s: the cause reaches the deployer", call)
		require.Equal(t, imageIDs(anAccount()), imageIDs(after), call)
		require.Equal(t, anAccount().Snapshots, after.Snapshots, call)
		for _, c := range calls {
			require.NotContains(t, c, "deregister-image", call)
		}
	}
}

func TestRetentionReportsAFailedDeletion(t *testing.T) {
	t.Parallel()
	a := anAccount()
	a.Fail = map[string]string{"ec2 delete-snapshot": "UnauthorizedOperation"}
	after, stderr, _, err := prune(t, a, nil, pruneEnv...)
	require.Error(t, err, "a snapshot left behind is a failure")
	require.NotContains(t, imageIDs(after), ami(1))
	require.Contains(t, after.Snapshots, channelImage(1).Snapshots[0])
	require.Contains(t, stderr, "could not delete its snapshot "+channelImage(1).Snapshots[0])
}

func TestRetentionRefusesBadSettings(t *testing.T) {
	t.Parallel()
	env := func(drop string, extra ...string) []string {
		var out []string
		for _, e := range pruneEnv {
			if !strings.HasPrefix(e, drop+"=") {
				out = append(out, e)
			}
		}
		return append(out, extra...)
	}
	for name, tc := range map[string]struct {
		args []string
		env  []string
	}{
		"no KEEP":             {nil, env("KEEP")},
		"KEEP not a number":   {nil, env("KEEP", "KEEP=three")},
		"--keep without N":    {[]string{"--keep"}, pruneEnv},
		"an unknown argument": {[]string{"--all"}, pruneEnv},
		"no window":           {nil, env("ROLLBACK_VERSIONS")},
		"no project":          {nil, env("PROJECT")},
		"a project path":      {nil, env("PROJECT", "PROJECT=/immutable-edge")},
	} {
		after, _, calls, err := prune(t, anAccount(), tc.args, tc.env...)
		require.Error(t, err, name)
		require.Equal(t, []string{""}, calls, "%s: no AWS call at all", name)
		require.Equal(t, imageIDs(anAccount()), imageIDs(after), name)
	}
}

// scriptCopy copies an images/ script into a temp dir and returns the copy's path. Reading it
// here also tells go test's cache that the result depends on the script.
func scriptCopy(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(imagesDir(t), rel))
	require.NoError(t, err)
	dst := filepath.Join(t.TempDir(), filepath.Base(rel))
	require.NoError(t, os.WriteFile(dst, b, 0o755))
	return dst
}
