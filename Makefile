# The two commands of the README, and the test tiers one by one.
.PHONY: deploy test unit sanity lint integration molecule clean

# The main job: run site.yml (today: decide the virt_type of this host).
deploy:
	bash tools/deploy

# Every test tier (what CI runs).
test:
	bash tools/test

unit sanity lint integration molecule:
	bash tools/test $@

clean:
	rm -rf build
