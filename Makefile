# Entry points: `make serve` and `make test` do all set-up on a fresh machine.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all setup build serve test test-cpp test-py golden bench clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@ninja -C $(BUILD) -j $(JOBS)

serve: build
	@$(BUILD)/semantic serve

test: build
	@bash scripts/run_tests.sh $(BUILD)

golden: build
	@bash scripts/golden.sh

clean:
	rm -rf $(BUILD)
