#!/bin/sh
# Checks every library lingraft builds against with pkg-config and every tool its
# tests call; installs what is missing from Debian's archive (sudo when not root).
# Usage: tools/deps.sh [--check]   (--check only reports, exit 1 if something is missing)
set -u
# pkg-config name  Debian package (liblzma, libzstd, expat: `corpora import` reads xz and
# zstd files and streams TMX)
LIBS="openblas:libopenblas-dev zlib:zlib1g-dev icu-uc:libicu-dev icu-i18n:libicu-dev
libcjson:libcjson-dev cmocka:libcmocka-dev sentencepiece:libsentencepiece-dev
liblzma:liblzma-dev libzstd:libzstd-dev expat:libexpat1-dev"
# command  Debian package
TOOLS="pkg-config:pkg-config cc:gcc c++:g++ spm_encode:sentencepiece gzip:gzip"
TOOLS="$TOOLS clang:clang"
# corpora/build.sh: fetch/unpack packages, render man pages, unpack Mozilla language packs
TOOLS="$TOOLS apt-get:apt dpkg-deb:dpkg man:man-db col:bsdextrautils unzip:unzip sha256sum:coreutils"
# the pipeline's report plots with gnuplot
TOOLS="$TOOLS gnuplot:gnuplot-nox"
# peak memory of a command (tests/adapt_stored.sh, tools/bench)
TOOLS="$TOOLS /usr/bin/time:time"
# tests that run llama.cpp or Hugging Face tokenizers install their pinned npm packages
TOOLS="$TOOLS node:nodejs npm:npm"
# make install: man pages made from --help
TOOLS="$TOOLS help2man:help2man"
# data-parallel training and alignment (issue 14): Open MPI's library and its mpirun;
# LG_DEPS_NO_MPI=1 (make MPI=0) leaves them out
if [ -z "${LG_DEPS_NO_MPI:-}" ]; then
    LIBS="$LIBS ompi-c:libopenmpi-dev"
    TOOLS="$TOOLS mpirun:openmpi-bin"
fi

missing=""
# oneDNN's bf16 matmul (lm/wmat.c): no pkg-config file in Debian, so its header is checked;
# LG_DEPS_NO_DNNL=1 (make DNNL=0) leaves it out
[ -n "${LG_DEPS_NO_DNNL:-}" ] || [ -f /usr/include/dnnl.h ] || missing="$missing libdnnl-dev"
for pair in $LIBS; do
    pc=${pair%%:*}; pkg=${pair#*:}
    command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$pc" 2>/dev/null && continue
    case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
done
for pair in $TOOLS; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 && continue
    case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
done

# OpenBLAS's OpenMP build: it shares libgomp's threads with lingraft's own parallel loops,
# where the default pthread build would put a second pool of threads on the same cores.
multiarch=$(cc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
[ -f "/usr/lib/$multiarch/openblas-openmp/pkgconfig/openblas.pc" ] ||
    missing="$missing libopenblas-openmp-dev"

# libFuzzer's runtime (make fuzz, tests/fuzz_smoke.sh): clang only recommends it; and
# clang's OpenMP (omp.h, libomp), which the fuzz build of the library compiles with.
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 ||
    missing="$missing libclang-rt-dev"
ls /usr/lib/llvm-*/lib/clang/*/include/omp.h >/dev/null 2>&1 || missing="$missing libomp-dev"

[ -z "$missing" ] && exit 0
if [ "${1:-}" = "--check" ]; then
    echo "deps: missing Debian packages:$missing" >&2
    exit 1
fi
echo "deps: installing$missing" >&2
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || { echo "deps: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2 || {
    echo "deps: apt-get install$missing failed" >&2; exit 1; }
