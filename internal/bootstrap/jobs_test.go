package bootstrap_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// firings is a stand-in for DynamoDB's PutItem, GetItem and UpdateItem on the firings table,
// as strict as DynamoDB about the one thing the election rests on: a PutItem conditioned on
// attribute_not_exists(firing) is checked and written under one lock, so of concurrent writers
// of a key exactly one succeeds. loseFirst answers the first write with a server error after
// writing it, as a lost answer would look.
type firings struct {
	mu        sync.Mutex
	items     map[string]map[string]any
	loseFirst bool
	puts      int
}

func (f *firings) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	keyOf := func(m any) string { return m.(map[string]any)["firing"].(map[string]any)["S"].(string) }
	switch r.Header.Get("X-Amz-Target") {
	case "DynamoDB_20120810.PutItem":
		f.puts++
		item := in["Item"].(map[string]any)
		k := keyOf(item)
		if in["ConditionExpression"] != "attribute_not_exists(firing)" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if _, taken := f.items[k]; taken {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`)
			return
		}
		f.items[k] = item
		if f.loseFirst {
			f.loseFirst = false
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"lost"}`)
			return
		}
		_, _ = io.WriteString(w, `{}`)
	case "DynamoDB_20120810.GetItem":
		item, ok := f.items[keyOf(in["Key"])]
		if !ok {
			_, _ = io.WriteString(w, `{}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"Item": item})
	case "DynamoDB_20120810.UpdateItem":
		item := f.items[keyOf(in["Key"])]
		values := in["ExpressionAttributeValues"].(map[string]any)
		item["state"], item["exitCode"] = values[":s"], values[":c"]
		_, _ = io.WriteString(w, `{}`)
	default:
		w.WriteHeader(http.StatusBadRequest)
	}
}

// jobStack is the voting stack with its firings table named.
func jobStack(t *testing.T) bootstrap.Stack {
	s := stackFor(t, "voting")
	require.NotEmpty(t, s.Jobs, "the voting stack has a job")
	s.JobTable = "immutable-edge-voting-job-firings"
	return s
}

// instance is one instance's sandbox: the real AWS CLI against the stand-in for DynamoDB, the
// fake aws for the rest, and a docker whose run of the job appends this instance and the
// firing to a file all instances share.
func instance(t *testing.T, id, endpoint, runs string) *sandbox {
	cli := testtools.Need(t, "aws")
	return newSandbox(t, jobStack(t), map[string]string{
		"aws": `echo "aws $*" >>"$FAKE_LOG"
case "$1" in dynamodb) exec ` + cli + ` --endpoint-url ` + endpoint + ` "$@" ;; esac`,
		"docker": `echo "docker $*" >>"$FAKE_LOG"
case "$1" in run) echo "` + id + ` $IE_JOB_FIRING" >>` + runs + `; exit "${FAKE_JOB_STATUS:-0}" ;; esac`,
	})
}

var cliEnv = []string{"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_EC2_METADATA_DISABLED=true",
	"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=3"}

// TestEachFiringRunsOnExactlyOneInstance fires the voting stack's job on two instances at
// once, as their timers do, five times: each firing runs once, on the instance whose
// conditional write won, and the other one logs who runs it and exits 0. The winner records the
// run's end and publishes JobFailed 0.
func TestEachFiringRunsOnExactlyOneInstance(t *testing.T) {
	t.Parallel()
	table := &firings{items: map[string]map[string]any{}}
	api := httptest.NewServer(table)
	defer api.Close()
	runs := filepath.Join(t.TempDir(), "runs")
	ids := []string{"i-0aaa", "i-0bbb"}
	boxes := []*sandbox{instance(t, ids[0], api.URL, runs), instance(t, ids[1], api.URL, runs)}
	const fires = 5
	for n := range fires {
		firing := fmt.Sprintf("2027-01-0%dT03:00Z", n+1)
		results := make([]bootRun, 2)
		var wg sync.WaitGroup
		for i, b := range boxes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = b.run("job.sh", []string{"run", "prune"}, append([]string{"FAKE_INSTANCE_ID=" + ids[i], "IE_JOB_FIRING=" + firing}, cliEnv...)...)
			}()
		}
		wg.Wait()
		here := 0
		for _, r := range results {
			require.NoError(t, r.err, r.output)
			if strings.Contains(r.output, "job prune: firing prune@"+firing+" runs here") {
				here++
				require.Contains(t, r.output, "job prune: firing prune@"+firing+" exited 0")
			} else {
				require.Regexp(t, "job prune: firing prune@"+firing+" runs on i-0(aaa|bbb)", r.output)
			}
		}
		require.Equal(t, 1, here, "one instance runs firing %s", firing)
		item := table.items["prune@"+firing]
		require.Equal(t, map[string]any{"S": "succeeded"}, item["state"])
		require.Equal(t, map[string]any{"N": "0"}, item["exitCode"])
	}
	raw, err := os.ReadFile(runs)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	require.Len(t, lines, fires, "one run per firing:\n%s", raw)
	seen := map[string]bool{}
	for _, l := range lines {
		firing := strings.Fields(l)[1]
		require.False(t, seen[firing], "firing %s ran twice", firing)
		seen[firing] = true
	}
	require.Equal(t, 2*fires, table.puts, "each instance claims each firing once")
	published := 0
	for _, b := range boxes {
		calls, _ := os.ReadFile(b.logFile)
		published += strings.Count(string(calls), "aws cloudwatch put-metric-data --region eu-central-1 --namespace ImmutableEdge/voting --metric-name JobFailed --dimensions Stack=voting,Job=prune --unit Count --value 0")
	}
	require.Equal(t, fires, published, "the winner of each firing reports it")
}

// TestAJobThatFailsIsRecordedAndReported: the container's exit status is the unit's, the table
// records it, and JobFailed is 1. A claim whose answer was lost (the write landed) still runs
// the firing: the retry finds the item written by this instance.
func TestAJobThatFailsIsRecordedAndReported(t *testing.T) {
	t.Parallel()
	table := &firings{items: map[string]map[string]any{}, loseFirst: true}
	api := httptest.NewServer(table)
	defer api.Close()
	runs := filepath.Join(t.TempDir(), "runs")
	b := instance(t, "i-0aaa", api.URL, runs)
	r := b.run("job.sh", []string{"run", "prune"}, append([]string{"FAKE_INSTANCE_ID=i-0aaa", "IE_JOB_FIRING=2027-01-01T03:00Z", "FAKE_JOB_STATUS=3"}, cliEnv...)...)
	require.Error(t, r.err)
	require.Equal(t, 3, r.exit, r.output)
	require.Contains(t, r.output, "firing prune@2027-01-01T03:00Z runs here")
	require.Equal(t, map[string]any{"S": "failed"}, table.items["prune@2027-01-01T03:00Z"]["state"])
	require.Equal(t, map[string]any{"N": "3"}, table.items["prune@2027-01-01T03:00Z"]["exitCode"])
	require.GreaterOrEqual(t, r.index("aws cloudwatch put-metric-data", "--metric-name JobFailed", "Job=prune", "--value 1"), 0)
	// It ran the job's command in the result image, with the job's secrets mounted.
	i := r.index("docker run --rm --name ie-job-prune")
	require.GreaterOrEqual(t, i, 0)
	require.Contains(t, r.log[i], "/immutable-edge/voting/result:1.2.0 node prune.js --older-than 365d")
	require.Contains(t, r.log[i], "target=/run/secrets,readonly")
	require.Contains(t, r.log[i], "--read-only")
}

// TestTheJobTimerGetsItsSchedule: once in service, boot.sh writes the job's OnCalendar drop-in
// and starts its timer; systemd accepts the job's units with it.
func TestTheJobTimerGetsItsSchedule(t *testing.T) {
	t.Parallel()
	b := newSandbox(t, jobStack(t), nil)
	r := b.run("boot.sh", nil)
	require.NoError(t, r.err, r.output)
	dropin := filepath.Join(b.etc, "systemd/system/ie-job@prune.timer.d/schedule.conf")
	raw, err := os.ReadFile(dropin)
	require.NoError(t, err)
	require.Equal(t, "[Timer]\nOnCalendar=*-*-* 03:00:00 UTC\n", string(raw))
	require.GreaterOrEqual(t, r.index("systemctl enable --no-reload --now ie-job@prune.timer"), 0)
	require.Greater(t, r.index("systemctl enable --no-reload --now ie-job@prune.timer"), r.index("autoscaling complete-lifecycle-action"), "only once in service")

	// The job's unit needs Docker, which the image brings.
	verifyImageUnits(t, []string{"ie-job@.service", "ie-job@.timer"}, map[string]string{
		"docker.service": "[Service]\nExecStart=/bin/true\n", "ie-job@prune.timer.d/schedule.conf": string(raw),
	}, "ie-job@prune.timer", "ie-job@prune.service")
}
