package images_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// fakeAccount is a test's handle on the fake: the directory with the aws symlink, the state
// file and the call log.
type fakeAccount struct{ bin, state, log string }

func newFakeAccount(dir string, a account) (fakeAccount, error) {
	f := fakeAccount{bin: filepath.Join(dir, "bin"), state: filepath.Join(dir, "account.json"), log: filepath.Join(dir, "aws.log")}
	self, err := os.Executable()
	if err != nil {
		return f, err
	}
	if err := os.MkdirAll(f.bin, 0o755); err != nil {
		return f, err
	}
	if err := os.Symlink(self, filepath.Join(f.bin, "aws")); err != nil {
		return f, err
	}
	return f, f.write(a)
}

func (f fakeAccount) write(a account) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return os.WriteFile(f.state, b, 0o644)
}

func (f fakeAccount) read() (account, error) {
	var a account
	b, err := os.ReadFile(f.state)
	if err == nil {
		err = json.Unmarshal(b, &a)
	}
	return a, err
}

// env is what a script run needs to find the fake first on PATH.
func (f fakeAccount) env() []string {
	return []string{"PATH=" + f.bin + ":" + os.Getenv("PATH"), "FAKE_AWS_STATE=" + f.state, "FAKE_AWS_LOG=" + f.log}
}

func (f fakeAccount) calls() []string {
	b, _ := os.ReadFile(f.log)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}
