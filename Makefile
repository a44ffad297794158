# Convenience targets; scripts/dev.sh does the work (and the set-up) so that a
# fresh machine without make can run the same commands.
.PHONY: setup test demo bench cppcheck mutation verify report docs
setup: ; bash scripts/dev.sh setup
test: ; bash scripts/dev.sh test
demo: ; bash scripts/dev.sh demo
cppcheck: ; bash scripts/cppcheck.sh
mutation: ; PATH=$(CURDIR)/.venv/bin:$$PATH bash scripts/mutation.sh
verify: ; .venv/bin/ionto-verify
report: ; .venv/bin/ionto-trace report --out out/report
docs: ; .venv/bin/ionto-trace docs --out out/docs
bench: ; for b in bench/bench_*.py; do .venv/bin/python $$b; done
