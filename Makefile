# nextchat-tavern — build, demo, tests, benchmarks.
# Every target installs what it needs (scripts/setup.sh); nothing is downloaded from
# outside the package registries.

PORT ?= 8080

.PHONY: help pkg demo test test-native test-browser test-node test-e2e test-nextjs test-st bench clean

help:
	@echo "make demo   build the package, start a local SillyTavern + demo model, serve the demo on http://127.0.0.1:$(PORT)/"
	@echo "make test   every test CI runs (native, browser, node, demo e2e, Next.js)"
	@echo "make pkg    build the npm package into pkg/"
	@echo "make bench  run the benchmarks (BENCH lines)"

pkg:
	scripts/build-pkg.sh

demo:
	PORT=$(PORT) scripts/demo.sh

test:
	scripts/test-all.sh

test-native:
	cargo test --all-targets

test-browser:
	scripts/test-browser.sh

test-node: pkg
	node --test tests/node/

test-e2e: pkg
	scripts/setup.sh browser
	node --test tests/e2e/

test-nextjs: pkg
	scripts/test-nextjs.sh

test-st: pkg
	scripts/setup.sh browser
	scripts/sillytavern.sh install
	node --test tests/st/

bench: pkg
	scripts/bench.sh

clean:
	rm -rf pkg target tests/nextjs-app/.next
