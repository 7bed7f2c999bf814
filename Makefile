# Named entry points; each is a script under scripts/ (they need no make).
.PHONY: lab lab-down test bench
lab:
	bash scripts/lab up
lab-down:
	bash scripts/lab down
test:
	bash scripts/test
bench:
	bash scripts/bench
