# The README's two commands: `make synth` is the main job without a cloud account, `make test`
# runs every check. CI (.ci/run) runs `make test` on a clean clone.
.PHONY: synth test deps docs boot-figures

synth:
	go run ./cmd/synth -stack dev

# Rewrites the generated blocks of README.md and docs/ (figures, tables, diagrams) from the
# program's own output; make test fails while one is stale.
docs:
	go run ./cmd/docgen -write

# Measures the boot tests' figures into images/local/figures.json (the image built cold in a
# scratch cache, then reused; boot to serving; boot.sh's steps; the switch-over), then writes
# them into the README. Needs root and about 25 minutes on 2 cores.
boot-figures: deps
	rm -rf /tmp/immutable-edge-figures-cache images/local/figures.json
	IE_IMAGE_CACHE=/tmp/immutable-edge-figures-cache IE_BOOT_FIGURES=$(CURDIR)/images/local/figures.json CI=true \
		go test -count=1 -timeout 60m -run '^(TestDevLaunchWithoutItsImages|TestDevLaunchWhenCertbotFails|TestDevServesAndIsReplaced|TestProdServesBehindTheALB)$$' -v ./images/local
	rm -rf /tmp/immutable-edge-figures-cache
	$(MAKE) docs

# The programs the tests run for real: Debian packages (HAProxy, cloud-init, shellcheck,
# systemd-analyze, Node.js, ...), the pinned Packer with its Amazon plugin, golangci-lint and
# actionlint, built once into .tools/, and Mermaid's parser installed there from tools/mermaid's lock.
deps:
	tools/deps.sh
	tools/build.sh

test: deps
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go mod tidy -diff
	cd tools && go mod tidy -diff
	cd tools/lint && go mod tidy -diff
	cd tools/vm && go mod tidy -diff
	go build ./...
	go vet ./...
	.tools/bin/golangci-lint run ./...
	.tools/bin/actionlint
	# -timeout: images/local builds the golden image (minutes, once per images/ content) and boots it under TCG.
	go test -timeout 60m ./...
	# Fuzz the config loader and the payload renderer a few seconds each, from the committed seed
	# corpus (every hostile value of plan/hostile.json); a failing input is written to testdata/fuzz.
	go test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime 3s ./internal/config
	go test -run '^$$' -fuzz '^FuzzRender$$' -fuzztime 3s ./internal/bootstrap
