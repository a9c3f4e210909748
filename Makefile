# lingraft — build, test, demo.  `make help` lists the targets.
#
# Layout: the *.c / *.cc directly in the module folders make build/liblingraft.a; the
# command code in MODULE/cli/ makes the program bin/MODULE.  Every tests/test_*.c becomes a
# cmocka test binary; tests/*.sh are integration tests.

CC      ?= cc
CXX     ?= c++
MODULES := lm tokenize transfer adapt corpora
PKGS    := zlib icu-uc icu-i18n libcjson sentencepiece liblzma libzstd expat
# OpenBLAS's OpenMP build (see tools/deps.sh), found through its own pkg-config file and
# pinned at run time with an rpath, whatever the system's default libopenblas.so.0 is.
MULTIARCH   := $(shell $(CC) -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
OPENBLAS_PC := /usr/lib/$(MULTIARCH)/openblas-openmp/pkgconfig/openblas.pc
ARCH    ?= -march=native
OPT     ?= -O3
# Warnings are errors in CI (CI=true) and wherever WERROR=1.
WERROR  ?= $(if $(CI),1,)
WFLAGS  := -Wall -Wextra $(if $(WERROR),-Werror,)

# Missing libraries are installed before their flags are read (tools/deps.sh),
# so a fresh Debian machine needs no step by hand.
ifeq ($(filter clean help,$(MAKECMDGOALS)),)
  DEPS_STATUS := $(shell $(if $(filter 0,$(MPI)),LG_DEPS_NO_MPI=1) $(if $(filter 0,$(DNNL)),LG_DEPS_NO_DNNL=1) tools/deps.sh >&2; echo $$?)
  ifneq ($(DEPS_STATUS),0)
    $(error missing dependencies could not be installed; see the message above)
  endif
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(OPENBLAS_PC) $(PKGS) cmocka 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(OPENBLAS_PC) $(PKGS) 2>/dev/null) \
              -Wl,-rpath,$(shell pkg-config --variable=libdir $(OPENBLAS_PC) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

# Open MPI (issue 14): `mpirun -np N bin/lm train` and `bin/transfer align` run data-parallel.
# Built in when pkg-config finds ompi-c (tools/deps.sh installs libopenmpi-dev); MPI=0 builds
# without (one process; the MPI tests then skip). Only lm/dist.c includes mpi.h (lg_dist.h).
ifeq ($(origin MPI),undefined)
  MPI := $(if $(shell pkg-config --exists ompi-c 2>/dev/null && echo y),1,0)
endif
ifeq ($(MPI),1)
  MPI_CFLAGS := -DLG_HAVE_MPI $(shell pkg-config --cflags ompi-c 2>/dev/null)
  MPI_LIBS   := $(shell pkg-config --libs ompi-c 2>/dev/null)
endif

# oneDNN (issue 17): the bf16 matmul on AVX512_BF16/AMX CPUs (lm/wmat.c), built in when
# its header is there (tools/deps.sh installs libdnnl-dev; Debian ships no pkg-config file);
# DNNL=0 builds without (the tiled bf16 kernel alone).
ifeq ($(origin DNNL),undefined)
  DNNL := $(if $(wildcard /usr/include/dnnl.h),1,0)
endif
ifeq ($(DNNL),1)
  DNNL_LIBS := -ldnnl
endif

CFLAGS   ?= $(OPT) $(ARCH) -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -fno-math-errno -fno-trapping-math $(WFLAGS) -fopenmp -Iinclude $(PKG_CFLAGS)
CXXFLAGS ?= $(OPT) $(ARCH) -g
CXXFLAGS += -std=c++17 $(WFLAGS) -Iinclude $(PKG_CFLAGS)
LDLIBS   := $(PKG_LIBS) $(MPI_LIBS) $(DNNL_LIBS) -lstdc++ -lgomp -lm -lpthread

# The sanitizer build lives in its own tree: build/asan/...
SAN ?=
ifeq ($(SAN),1)
  BUILD := build/asan
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  CFLAGS   += $(SANFLAGS)
  CXXFLAGS += $(SANFLAGS)
  BIN := build/asan/bin
else
  BUILD := build
  BIN := bin
endif

# The shared library: every *.c / *.cc directly in a module folder.  Each program NAME is
# NAME/cli/*.c (its command code: options, usage, exit codes) linked with the command-line
# kit lm/cli/cli.c that all programs share; library code never includes a cli header.
LIB_C    := $(wildcard $(addsuffix /*.c,$(MODULES)))
LIB_CXX  := $(wildcard $(addsuffix /*.cc,$(MODULES)))
LIB_OBJ  := $(LIB_C:%.c=$(BUILD)/obj/%.o) $(LIB_CXX:%.cc=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/liblingraft.a
KIT_C    := lm/cli/cli.c
KIT_OBJ  := $(KIT_C:%.c=$(BUILD)/obj/%.o)
KIT      := $(BUILD)/liblingraft-cli.a
PROGS    := $(foreach m,$(MODULES),$(BIN)/$(m))
prog_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out $(KIT_C),$(wildcard $(1)/cli/*.c)))
TEST_C   := $(wildcard tests/test_*.c)
TESTS    := $(TEST_C:tests/%.c=$(BUILD)/tests/%)

# The version every program prints (--version): this release and the commit built.
VERSION    := 0.1.0
GIT_REV    := $(shell git rev-parse --short HEAD 2>/dev/null)
LG_VERSION := $(VERSION)$(if $(GIT_REV),+git.$(GIT_REV),)
.PHONY: FORCE
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(LG_VERSION)' | cmp -s - $@ || echo '$(LG_VERSION)' >$@
$(BUILD)/obj/lm/cli/cli.o: $(BUILD)/version.stamp
$(BUILD)/obj/lm/cli/cli.o: CFLAGS += -DLG_VERSION='"$(LG_VERSION)"'
# lm/dist.c is rebuilt when MPI changes between builds
$(BUILD)/mpi.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(MPI)' | cmp -s - $@ || echo '$(MPI)' >$@
$(BUILD)/obj/lm/dist.o: $(BUILD)/mpi.stamp
$(BUILD)/obj/lm/dist.o: CFLAGS += $(MPI_CFLAGS)
$(BUILD)/dnnl.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(DNNL)' | cmp -s - $@ || echo '$(DNNL)' >$@
$(BUILD)/obj/lm/wmat.o: $(BUILD)/dnnl.stamp
$(BUILD)/obj/lm/wmat.o: CFLAGS += $(if $(filter 1,$(DNNL)),-DLG_HAVE_DNNL,)

# Command code sees its own module's private headers and the kit's; the tests see every
# module's private headers (they test internals).
$(foreach m,$(MODULES),$(eval $(BUILD)/obj/$(m)/cli/%.o: CFLAGS += -I$(m) -Ilm/cli))
$(BUILD)/obj/tests/%.o: CFLAGS += $(addprefix -I,$(MODULES)) -Ilm/cli

.PHONY: all deps test test-unit test-asan clean help demo demo-multi install uninstall
.DEFAULT_GOAL := all
.SECONDARY:

all: $(LIB) $(KIT) $(PROGS)

help:
	@echo "make            build build/liblingraft.a and the programs in bin/"
	@echo "make deps       install missing Debian packages (apt-get; sudo when not root)"
	@echo "make install    PREFIX=/usr/local DESTDIR=: lingraft, lingraft-COMMAND, man pages,"
	@echo "                the library, its headers and lingraft.pc; make uninstall removes them"
	@echo "make test       build and run every test, then again under ASan+UBSan"
	@echo "make test-unit  the tests once, without sanitizers"
	@echo "make test-asan  the tests under AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make hf-parity  tokenizer.json: ids and decode against tokenizers@0.23.2 (100k+ lines)"
	@echo "make bench-tokenizers  tokenizer.json encode MB/s against tokenizers@0.23.2"
	@echo "make demo       the main job: English base model, then the Dutch pipeline and report"
	@echo "make lang-LL    the pipeline for one language (nl, eu, fy); BASE=DIR for your model"
	@echo "make demo-multi Dutch, Frisian and Basque packs over one base: separate against"
	@echo "                shared LoRA, LangSAMP, extend vs replace, forgetting (out/multi)"
	@echo "make fuzz       libFuzzer runs of every file parser, FUZZ_SECONDS each (60); FUZZ=NAME for one"
	@echo "make bench      lingraft against PyTorch (tuned and as installed): tok/s, RSS, % of sgemm peak"
	@echo "make bench-scale  training tok/s and alignment time: 1 rank x 1/2 threads, 2 ranks (MPI)"
	@echo "make bench-bf16   1B-shaped bf16 model: eval/generate/LoRA step as stored vs float32, bf16 kernels"
	@echo "make corpora LANG=nl   corpus from Debian packages (nl, en, fy, eu) into corpora/build/LANG/"

deps:
	@tools/deps.sh

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(KIT): $(KIT_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -MMD -MP -c $< -o $@

define prog_rule
$(BIN)/$(1): $(call prog_objs,$(1)) $(KIT) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) $$(LDFLAGS) $$^ -o $$@ $$(LDLIBS)
endef
$(foreach m,$(MODULES),$(eval $(call prog_rule,$(m))))

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(KIT) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(CMOCKA_LIBS) $(LDLIBS)

# The test command of README and .ci/run.
test: test-unit test-asan

test-unit: all $(TESTS)
	@LG_BIN=$(BIN) tools/run-tests.sh $(TESTS)

test-asan:
	@$(MAKE) --no-print-directory SAN=1 OPT=-O1 test-unit

# Install like a Unix tool: the programs in PREFIX/libexec/lingraft (the names the pipeline
# scripts use), PREFIX/bin/lingraft-COMMAND linking to them and PREFIX/bin/lingraft running
# them (tools/lingraft), man pages made by help2man from the installed programs' --help,
# the library with its public headers and a pkg-config file, and the corpus builder with its
# recipes in PREFIX/share/lingraft. Everything is found relative to PREFIX, so a DESTDIR
# tree runs where it lies. `make uninstall` removes exactly what install wrote.
PREFIX      ?= /usr/local
DESTDIR     ?=
I_BIN       := $(DESTDIR)$(PREFIX)/bin
I_LIBEXEC   := $(DESTDIR)$(PREFIX)/libexec/lingraft
I_LIB       := $(DESTDIR)$(PREFIX)/lib
I_INC       := $(DESTDIR)$(PREFIX)/include/lingraft
I_PC        := $(DESTDIR)$(PREFIX)/lib/pkgconfig
I_MAN       := $(DESTDIR)$(PREFIX)/share/man/man1
I_SHARE     := $(DESTDIR)$(PREFIX)/share/lingraft
PROG_NAMES  := $(MODULES)
PUBLIC_H    := $(notdir $(wildcard include/*.h))
RECIPES     := $(notdir $(wildcard corpora/recipes/*.sh))
# the library is static: its users link with what it links with (OpenBLAS's OpenMP build
# is not on pkg-config's default path, so the flags are written out)
PC_LIBS     := -L$${libdir} -llingraft $(PKG_LIBS) $(MPI_LIBS) -lstdc++ -lgomp -lm -lpthread -fopenmp

$(BUILD)/lingraft.pc: Makefile
	@mkdir -p $(dir $@)
	@printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	    'Name: lingraft' 'Description: adapt a pretrained language model to a new language' \
	    'Version: $(VERSION)' 'Requires: libcjson' \
	    'Cflags: -I$${includedir}/lingraft' 'Libs: $(strip $(PC_LIBS))' >$@

install: all $(BUILD)/lingraft.pc
	@command -v help2man >/dev/null || { echo "install: help2man missing (make deps)"; exit 1; }
	install -d $(I_BIN) $(I_LIBEXEC) $(I_LIB) $(I_INC) $(I_PC) $(I_MAN) $(I_SHARE)/corpora/recipes
	install -m 755 $(addprefix $(BIN)/,$(PROG_NAMES)) $(I_LIBEXEC)/
	for p in $(PROG_NAMES); do ln -sfn ../libexec/lingraft/$$p $(I_BIN)/lingraft-$$p; done
	install -m 755 tools/lingraft $(I_BIN)/lingraft
	install -m 644 $(LIB) $(I_LIB)/liblingraft.a
	install -m 644 $(addprefix include/,$(PUBLIC_H)) $(I_INC)/
	install -m 644 $(BUILD)/lingraft.pc $(I_PC)/lingraft.pc
	install -m 644 corpora/build.sh $(I_SHARE)/corpora/build.sh
	install -m 644 $(addprefix corpora/recipes/,$(RECIPES)) $(I_SHARE)/corpora/recipes/
	for p in lingraft $(addprefix lingraft-,$(PROG_NAMES)); do \
	    tools/man.sh $(I_BIN)/$$p $(I_MAN)/$$p.1 || exit 1; done

uninstall:
	rm -f $(I_BIN)/lingraft $(addprefix $(I_BIN)/lingraft-,$(PROG_NAMES))
	rm -f $(addprefix $(I_LIBEXEC)/,$(PROG_NAMES)) $(I_LIB)/liblingraft.a $(I_PC)/lingraft.pc
	rm -f $(addprefix $(I_INC)/,$(PUBLIC_H)) $(addprefix $(I_MAN)/,$(addsuffix .1,lingraft $(addprefix lingraft-,$(PROG_NAMES))))
	rm -f $(I_SHARE)/corpora/build.sh $(addprefix $(I_SHARE)/corpora/recipes/,$(RECIPES))
	-rmdir $(I_LIBEXEC) $(I_INC) $(I_SHARE)/corpora/recipes $(I_SHARE)/corpora $(I_SHARE) 2>/dev/null

# Fuzzing with clang's libFuzzer (issue 12): every parser of a file a user may download has
# a harness tests/fuzz/fuzz_NAME.c (.cc for SentencePiece) calling the library's own entry
# point. `make fuzz-build` compiles the library's sources again with clang under
# ASan+UBSan and coverage (build/fuzz/liblingraft.a) and links build/fuzz/fuzz_NAME;
# `make fuzz` runs each for FUZZ_SECONDS (FUZZ=NAME... for some) with tests/fuzz/run.sh:
# new inputs collect in build/fuzz/corpus-NAME, a crash in build/fuzz/NAME-crash-*, the
# figures in build/fuzz/results.tsv. tests/fuzz_smoke.sh (in `make test`) runs each briefly.
FUZZ_CC       ?= clang
FUZZ_CXX      ?= clang++
FUZZ_SECONDS  ?= 60
FUZZ          ?=
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_COMMON   := -g -O1 -fno-math-errno -fno-trapping-math -fopenmp $(WFLAGS) -Wno-pass-failed -Iinclude \
                 $(PKG_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE $(FUZZ_COMMON)
FUZZ_CXXFLAGS = -std=c++17 $(FUZZ_COMMON)
FUZZ_LIB      := build/fuzz/liblingraft.a
FUZZ_NAMES    := $(sort $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c tests/fuzz/fuzz_*.cc))))
FUZZERS       := $(addprefix build/fuzz/,$(FUZZ_NAMES))

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZERS)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

build/fuzz/obj/%.o: %.cc
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -MMD -MP -c $< -o $@

# the harnesses reach module-private entry points (spm_proto.h, lg_checkpoint.h) and read
# the fixtures of the tree they were built in
build/fuzz/obj/tests/fuzz/%.o: FUZZ_COMMON += $(addprefix -I,$(MODULES)) -DLG_FUZZ_ROOT='"$(CURDIR)"'

$(FUZZ_LIB): $(LIB_C:%.c=build/fuzz/obj/%.o) $(LIB_CXX:%.cc=build/fuzz/obj/%.o)
	$(AR) rcs $@ $^

build/fuzz/fuzz_%: build/fuzz/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	$(FUZZ_CXX) $(FUZZ_SAN) -fsanitize=fuzzer $^ -o $@ $(PKG_LIBS) -fopenmp -lm -lpthread

fuzz: fuzz-build
	@tests/fuzz/run.sh -t $(FUZZ_SECONDS) $(FUZZ)

# tokenizer.json (issue 13), not part of `make test` (which runs a sample): every line of
# HF_PARITY_LINES generated adversarial lines and of the corpora's text, on the four real
# tokenizers and the synthetic variants, against Hugging Face's tokenizers@0.23.2; and the
# encode speed against it on the Dutch held-out text (tools/hf-parity, tools/bench-tokenizers).
HF_PARITY_LINES ?= 100000
HF_PARITY_TEXT  ?= $(wildcard corpora/build/nl/heldout.txt corpora/build/en/heldout.txt \
                     corpora/build/nl/mono.txt.gz corpora/build/en/mono.txt.gz)
.PHONY: hf-parity bench-tokenizers
hf-parity: $(BIN)/tokenize
	LG_BIN=$(BIN) tools/hf-parity -n $(HF_PARITY_LINES) -s 1 \
	    -t "llama3 qwen3 gemma3 llama2 variants" $(HF_PARITY_TEXT)
bench-tokenizers: $(BIN)/tokenize
	LG_BIN=$(BIN) tools/bench-tokenizers $(firstword $(wildcard corpora/build/nl/heldout.txt) tests/data/tokenize/nl.txt)

# Benchmark against PyTorch (issue 7), not part of `make test`: installs Debian's
# python3-torch when missing, then tools/bench/run.sh writes build/bench/results.json and
# prints the table. BENCH_SHAPES, BENCH_MODES, BENCH_THREADS, BENCH_REPEATS, BENCH_STEPS
# select a subset (see tools/bench/run.sh).
.PHONY: bench
bench: $(BIN)/lm
	@/usr/bin/python3 -c 'import torch' 2>/dev/null || { \
	    echo "bench: installing python3-torch (apt-get)"; \
	    SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	    $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	        python3-torch python3-numpy || { \
	        $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive \
	            apt-get install -y --no-install-recommends python3-torch python3-numpy; }; }
	LM=$(BIN)/lm tools/bench/run.sh

# Weights kept as stored (issue 17), not part of `make test`: on a Llama-3.2-1B-shaped bf16
# model (written once into build/bench/bf16/), lm eval / generate / one LoRA step as stored
# against the float32 path, peak RSS, and the bf16 kernels per shape (tools/bench/bf16.sh).
.PHONY: bench-bf16
bench-bf16: $(BIN)/lm $(BUILD)/wmat_bench
	@tools/bench/bf16.sh
$(BUILD)/wmat_bench: tools/bench/wmat_bench.c $(LIB)
	$(CC) $(CFLAGS) -Ilm $< $(LIB) -o $@ $(LDLIBS)

# Scaling (issue 14), not part of `make test`: training tokens/s at the small shape and
# alignment time on the nl ids (build/nl/, when present) for 1 rank x 1 thread (reference),
# 1 rank x 2 threads and 2 MPI ranks x 1 thread, peak RSS, and MPI_Allreduce times of the
# gradient sizes (tools/bench/scale.sh; SCALE_* variables there).
.PHONY: bench-scale
bench-scale: $(BIN)/lm $(BIN)/transfer
	@tools/bench/scale.sh

# The main job: the English base model (cached in models/) and the Dutch pipeline.
demo: all
	@tools/demo.sh

# Several languages over one base (issue 15): out/multi/report.md
demo-multi: all
	@tools/adapt-languages nl fy eu

# Any language with a corpus recipe: make lang-nl, make lang-fy BASE=path/to/hf-model
lang-%: all
	@tools/adapt-language $*

# Corpora built from Debian packages (downloads; not part of `make test`), issue 5:
# make corpora LANG=nl writes corpora/build/nl/ (recipes in corpora/recipes/).
# LANG is also the locale variable, so only a LANG given on the command line counts.
CORPUS_LANG := $(if $(filter command line,$(origin LANG)),$(LANG),nl)
.PHONY: corpora
corpora: $(BIN)/corpora
	LG_BIN=$(BIN) sh corpora/build.sh $(CORPUS_LANG)

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
