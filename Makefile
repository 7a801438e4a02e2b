# Front door for the NVMe device model overlay on QEMU 10.0.
# Everything real lives in scripts/; see README.rst.

SHELL := /bin/bash
SCRIPTS := $(CURDIR)/scripts

.PHONY: all build build-asan build-fuzz guest run check check-qtest \
        check-asan check-functional fuzz bench patch deps clean distclean

all: build

deps:
	@$(SCRIPTS)/deps.sh

build:
	@$(SCRIPTS)/build-qemu.sh

# Clang builds with AddressSanitizer and UBSan (build/qemu-build-asan) and
# with libFuzzer besides (build/qemu-build-fuzz).
build-asan:
	@$(SCRIPTS)/build-qemu.sh asan

build-fuzz:
	@$(SCRIPTS)/build-qemu.sh fuzz

guest:
	@$(SCRIPTS)/guest-image.sh

# make run [QEMU_ARGS='...']: boot the default guest on our controller.
run: build guest
	@$(SCRIPTS)/run.sh $(QEMU_ARGS)

check: build guest
	@$(SCRIPTS)/check.sh

check-qtest: build
	@$(SCRIPTS)/check.sh --qtest-only

# The nvme qtests on the ASan/UBSan build (make check runs them too, unless
# NVME_ASAN=0).
check-asan:
	@$(SCRIPTS)/check.sh --asan-only

check-functional: build guest
	@$(SCRIPTS)/check.sh --functional-only

# make fuzz [FUZZ_MINUTES=10] [FUZZ_CONFIGS=plain,zoned]: libFuzzer on the
# configurations in tests/fuzz; results in build/fuzz.
fuzz: build-fuzz
	@python3 $(SCRIPTS)/fuzz.py

bench: build guest
	@$(SCRIPTS)/bench.sh

patch:
	@$(SCRIPTS)/make-patch.sh

clean:
	rm -rf build/qemu-build build/qemu-build-asan build/qemu-build-fuzz build/guest

distclean:
	rm -rf build
