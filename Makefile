# The two commands of the README, and the test tiers one by one.
.PHONY: deploy test unit sanity lint integration molecule clean

# The main job: deploy Nova with site.yml on the local lab and verify it.
deploy:
	bash tools/deploy

# Every test tier (what CI runs).
test:
	bash tools/test

unit sanity lint integration molecule:
	bash tools/test $@

clean:
	rm -rf build
