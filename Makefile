# Convenience targets; scripts/dev.sh does the work (and the set-up) so that a
# fresh machine without make can run the same commands.
.PHONY: setup test demo bench cppcheck mutation verify report docs c-mutation c-mutation-full c-mutation-killers fuzz fuzz-long eva sanitize c-coverage arm mutation-session mutation-session-share
setup: ; bash scripts/dev.sh setup
test: ; bash scripts/dev.sh test
demo: ; bash scripts/dev.sh demo
cppcheck: ; bash scripts/cppcheck.sh
mutation: ; PATH=$(CURDIR)/.venv/bin:$$PATH bash scripts/mutation.sh
verify: ; .venv/bin/ionto-verify
report: ; .venv/bin/ionto-trace report --out out/report
docs: ; .venv/bin/ionto-trace docs --out out/docs
bench: ; for b in bench/bench_*.py; do .venv/bin/python $$b; done
# C checks (issue 12): scripts/cverify.sh and scripts/c_mutation.py
c-mutation: ; .venv/bin/python scripts/c_mutation.py
c-mutation-full: ; .venv/bin/python scripts/c_mutation.py --share 1 --deep --verbose
c-mutation-killers: ; .venv/bin/python scripts/c_mutation.py --share 8 --update-killers
fuzz: ; PATH=$(CURDIR)/.venv/bin:$$PATH bash scripts/cverify.sh fuzz
# a long run that adds what it finds to the committed corpus (FUZZ_SECONDS=3600 by default)
fuzz-long: ; PATH=$(CURDIR)/.venv/bin:$$PATH FUZZ_SECONDS=$${FUZZ_SECONDS:-3600} FUZZ_MERGE=1 bash scripts/cverify.sh fuzz
eva: ; bash scripts/cverify.sh eva
sanitize: ; PATH=$(CURDIR)/.venv/bin:$$PATH bash scripts/cverify.sh sanitize
c-coverage: ; PATH=$(CURDIR)/.venv/bin:$$PATH bash scripts/cverify.sh coverage
arm: ; PATH=$(CURDIR)/.venv/bin:$$PATH bash scripts/cverify.sh arm
# Python mutation of the session modules (issue 12 point 2; lists in scripts/mutation.sh):
# CI rotates over limits, scenario, history, regulator (scripts/dev.sh); this is the full run of all eight
mutation-session: ; PATH=$(CURDIR)/.venv/bin:$$PATH MUTATION_SET=session bash scripts/mutation.sh $${MUTATION_MIN_SCORE:-0}
mutation-session-share: ; PATH=$(CURDIR)/.venv/bin:$$PATH MUTATION_SET=session MUTATION_SHARE=10 bash scripts/mutation.sh $${MUTATION_MIN_SCORE:-0}
