#!/usr/bin/env bash
# A real end-to-end tour of dvlite in a throw-away folder. Run it with `make demo`.
set -euo pipefail

# colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
    BOLD=$'\033[1;36m' DIM=$'\033[2m' RESET=$'\033[0m'
else
    BOLD='' DIM='' RESET=''
fi
step() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$RESET"; }
show() { printf '%s$ %s%s\n' "$DIM" "$*" "$RESET"; "$@"; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/dvlite-demo.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export GIT_AUTHOR_NAME="dvlite demo" GIT_AUTHOR_EMAIL="demo@dvlite.invalid"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
cd "$WORK"

step "A git repository with dvlite in it"
show git init -q -b main project
cd project
show dvlite init

step "A generated dataset (300 files in 3 folders) and a model file"
python3 - <<'PY'
import os, random
random.seed(7)
for split in ("train", "valid", "test"):
    os.makedirs(f"data/{split}", exist_ok=True)
    for i in range(100):
        with open(f"data/{split}/{i:03}.csv", "w") as f:
            f.write("\n".join(f"{random.random():.6f},{random.randint(0, 9)}" for _ in range(50)))
with open("model.pkl", "wb") as f:
    f.write(os.urandom(1 << 20))
PY
show dvlite add data model.pkl
show cat data.dvl
show git status --short
show git commit -q -m "data v1"

step "Change one file: status names it, down to the file inside the folder"
echo "0.5,1" >> data/train/007.csv
show dvlite status
show dvlite add data
show git commit -q -m "data v2" data.dvl

step "Go back to v1 of the data: git checks out the pointer, dvlite the bytes"
show git checkout -q HEAD~1 -- data.dvl
show dvlite checkout
show dvlite status
show git checkout -q main -- data.dvl
show dvlite checkout

step "Unsaved changes are never overwritten without --force"
echo "precious" > data/test/new-file.csv
show dvlite checkout || true
show dvlite checkout --force

step "The cache: content-addressed, read-only, verified"
show du -sh .dvlite/cache
show dvlite fsck

step "Push to a folder remote, clone elsewhere, pull the data back"
show dvlite remote add -d store "$WORK/store"
git commit -q -m "add a remote" .dvlite/config
show dvlite push
show dvlite push
show dvlite status --remote
# storage format 2: the small files travel in one pack, named by one index file
show find "$WORK/store" -type f
cd "$WORK"
show git clone -q project clone
cd clone
show dvlite pull data/train
show dvlite pull
show dvlite fsck --remote
cd "$WORK/project"

step "A big model: its new version sends only the chunks that changed"
python3 -c 'import os; open("weights.bin", "wb").write(os.urandom(16 << 20))'
show dvlite add weights.bin
git add weights.bin.dvl .gitignore && git commit -q -m "weights v1"
show dvlite push
(cd "$WORK/clone" && git pull -q origin main && dvlite pull weights.bin >/dev/null)
python3 - <<'PY'
import os
with open("weights.bin", "r+b") as f:  # fine-tune: 64 KiB in the middle change
    f.seek(8 << 20)
    f.write(os.urandom(64 << 10))
PY
show dvlite add weights.bin
git commit -q -m "weights v2" weights.bin.dvl
# of the 16 MiB file, only the few chunks around the edit are new
show dvlite status --remote
show dvlite push
cd "$WORK/clone"
git pull -q origin main
# the clone holds v1 (pulled above): it reads only the new chunks, the rest is in its cache
show dvlite status --remote
show dvlite pull weights.bin
cd "$WORK/project"

step "Git hooks: the data follows the branch; diff and ls read history; gc keeps it safe"
show dvlite install
show git checkout -q -b experiment
echo "0.1,2" >> data/valid/042.csv
show dvlite add data
show git commit -q -m "experiment data" data.dvl
show git checkout -q main
show dvlite diff main experiment
show dvlite ls data/valid/042.csv --rev experiment
show dvlite gc -A --dry
step "A pipeline: a stage reads the data and a param, dvlite.lock records the run"
cat > count.py <<'PY'
import json, os
lr = json.load(open("params.yaml"))["train"]["lr"]
n = sum(1 for _ in os.scandir("data/train"))
json.dump({"files": n, "lr": lr}, open("metrics.json", "w"))
open("summary.txt", "w").write(f"{n} training files, lr {lr}\n")
PY
echo '{"train": {"lr": 0.1}}' > params.yaml
show dvlite stage add -n count -d count.py -d data -p train.lr -o summary.txt -m metrics.json "python3 count.py"
show dvlite repro
show dvlite repro
echo '{"train": {"lr": 0.2}}' > params.yaml
show dvlite repro --dry
show dvlite repro
show git add count.py params.yaml
show git commit -q -m "count stage, lr 0.2"
show dvlite lineage summary.txt
show dvlite metrics show

step "Experiments: run a param change aside, queue more, compare, apply the best"
show dvlite exp run -S train.lr=0.3 -n lr-0.3
show dvlite exp run --queue -S train.lr=0.05 -n lr-0.05
show dvlite exp run --queue -S train.lr=0.2 -n lr-0.2-again
# two at a time, each in its own work tree; lr 0.2 is what the baseline ran: nothing to do
show dvlite exp run --run-all -j 2
show git status --short
show dvlite exp show --sort-by metrics.json:lr --desc
show dvlite exp diff lr-0.3
show dvlite exp apply lr-0.3
show git commit -q -am "lr 0.3, from experiment lr-0.3"
show dvlite metrics show

step "A model registry in git tags: register, promote, get just the model in a fresh clone"
show dvlite model register churn model.pkl
show dvlite model register counter summary.txt --bump major
show dvlite model promote churn v0.1.0 prod
show dvlite model promote counter latest staging
show git tag -l 'churn*' -n4
show dvlite model list
show dvlite model show counter
show dvlite push
cd "$WORK"
show git clone -q project fresh
cd fresh
# no pull: get fetches only the model's objects, verified, and writes a copy
show dvlite model get 'churn#prod#1' -o deploy/model.pkl
show ls -l deploy
cd "$WORK/project"

step "Plots: a stage's CSV curve across a commit and an experiment in one HTML page; a report"
cat > curve.py <<'PY'
import json
lr = json.load(open("params.yaml"))["train"]["lr"]
with open("loss.csv", "w") as f:
    f.write("step,loss\n")
    for i in range(30):
        f.write(f"{i},{1 / (1 + i * lr):.4f}\n")
PY
show dvlite run -n curve -d curve.py -p train.lr --plots loss.csv "python3 curve.py"
show git add curve.py
show git commit -q -m "loss curve"
show dvlite exp run -S train.lr=0.05 -n slow
# one self-contained HTML file (inline SVG, no script, nothing fetched when it is opened)
show dvlite plots diff HEAD slow
show dvlite report HEAD slow
show ls dvlite_plots dvlite_report

step "Stage families in DVC's syntax, and the everyday commands"
cat >> dvlite.yaml <<'YAML'
  prep:
    foreach: [us, eu]
    do:
      cmd: echo region ${item} > prep-${item}.txt
      outs:
        - prep-${item}.txt
      desc: one stage per region
  regions:
    cmd:
      - cat prep-us.txt prep-eu.txt > regions.md
      - echo done >> regions.md
    deps:
      - prep-us.txt
      - prep-eu.txt
    outs:
      - regions.md:
          cache: false
YAML
show dvlite stage list
show dvlite repro prep regions
touch data/.DS_Store
show dvlite check-ignore -d data/.DS_Store
show dvlite status
show dvlite du
show dvlite move weights.bin models/weights.bin
show git commit -q -m "families; weights moved" -a
show dvlite doctor

step "A data-quality gate: a stage's checks run before its outputs are recorded"
cat > make_table.py <<'PY'
import sys
rows = ["id,label,amount", "1,cat,3.5", "2,dog,4.0", "3,cat," + sys.argv[1]]
open("table.csv", "w").write("\n".join(rows) + "\n")
PY
cat >> dvlite.yaml <<'YAML'
  table:
    cmd: python3 make_table.py 1.5
    deps:
      - make_table.py
    outs:
      - table.csv
    checks:
      - test -s table.csv
      - expect: table.csv
        columns: [id, label, amount]
        types: {id: int, amount: float}
        not_null: [id, label]
        range: {amount: {min: 0}}
        unique: [id]
YAML
show dvlite repro table
show dvlite check table
sed -i 's/make_table.py 1.5/make_table.py -2/' dvlite.yaml
show dvlite repro table || echo "(the check stopped it; dvlite.lock keeps the good run)"
show dvlite status
sed -i 's/make_table.py -2/make_table.py 1.5/' dvlite.yaml
# back to the good setting: restored from the run cache, nothing runs
show dvlite repro table

step "A data registry: import a dataset from a second repository, update it, get one file"
( cd "$WORK" && git init -q -b main registry && cd registry && dvlite init >/dev/null
  mkdir cities && printf 'city,pop\nOslo,709000\n' > cities/nordic.csv
  dvlite add cities >/dev/null && dvlite remote add -d shared "$WORK/registry-store"
  dvlite push >/dev/null && git add -A && git commit -q -m "cities v1" && git tag v1
  git clone -q --bare . "$WORK/registry.git" )
show dvlite ls "$WORK/registry.git"
show dvlite import "$WORK/registry.git" cities
show cat cities.dvl
show git commit -q -m "import cities"
(cd "$WORK/registry" && printf 'Bergen,291000\n' >> cities/nordic.csv && dvlite add cities >/dev/null \
  && dvlite push >/dev/null && git commit -q -am "cities v2" && git push -q "$WORK/registry.git" main)
# the source is a folder on this machine: update says so explicitly
show dvlite update --allow-local cities.dvl
show dvlite lineage cities
show dvlite get "$WORK/registry.git" cities/nordic.csv --rev v1 -o nordic-v1.csv

printf '\nTour finished; everything ran in %s (now removed).\n' "$WORK"
