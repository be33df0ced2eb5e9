package main

import "time"

// plan holds the sizes of a run: how many samples, how long the emulator
// takes. The full plan aims at stable medians within about five minutes on
// a 2-core machine; the quick plan only checks that everything works.
type plan struct {
	warm int // unmeasured pairs before each interleaved series

	imageGen   []time.Duration // emulator generation times for scenario 1
	imagePairs []int           // measured pairs at each

	failGen   time.Duration // generation time of failing jobs (scenario 2)
	failPairs int

	burstN      int // requests in flight (scenario 3)
	burstGen    time.Duration
	burstRounds int // proxy and direct bursts, alternating

	tokenDelay time.Duration // pause between LLM stream events
	chatPairs  int           // streamed chats (scenario 5)
	passPairs  int           // passthrough chats (scenario 6)

	loadConns  int           // connections of the load generator (scenario 7)
	loadSlice  time.Duration // one measured slice per route and round
	loadRounds int
	wrkTime    time.Duration // 0 skips wrk

	rssN      int // image jobs in flight (scenario 8)
	rssGen    time.Duration
	rssSettle []time.Duration // when RSS is read after the burst

	b64Size int // bytes of the image (scenario 9)
	b64Runs int // fresh proxy processes per path

	startRuns int // proxy starts (scenario 10)

	limitRounds int           // rounds of alternating slices (scenario 11)
	limitSlice  time.Duration // one slice per route and side; wrk takes whole seconds
	allocN      int           // requests per allocation count

	videoSize  int // bytes of the video (scenario 14)
	videoPairs int
}

func fullPlan() plan {
	return plan{
		warm:       2,
		imageGen:   []time.Duration{700 * time.Millisecond, 3 * time.Second},
		imagePairs: []int{40, 12},
		failGen:    700 * time.Millisecond,
		failPairs:  15,
		burstN:     500, burstGen: time.Second, burstRounds: 3,
		tokenDelay: 5 * time.Millisecond, chatPairs: 40, passPairs: 300,
		loadConns: 50, loadSlice: 3 * time.Second, loadRounds: 2, wrkTime: 5 * time.Second,
		rssN: 1000, rssGen: 3 * time.Second,
		rssSettle: []time.Duration{time.Second, 5 * time.Second, 10 * time.Second},
		b64Size:   4 << 20, b64Runs: 3,
		startRuns:   10,
		limitRounds: 12, limitSlice: time.Second, allocN: 200,
		videoSize: 64 << 20, videoPairs: 20,
	}
}

func quickPlan() plan {
	return plan{
		warm:       1,
		imageGen:   []time.Duration{100 * time.Millisecond, 400 * time.Millisecond},
		imagePairs: []int{3, 2},
		failGen:    100 * time.Millisecond,
		failPairs:  2,
		burstN:     50, burstGen: 300 * time.Millisecond, burstRounds: 1,
		tokenDelay: 2 * time.Millisecond, chatPairs: 3, passPairs: 20,
		loadConns: 10, loadSlice: 300 * time.Millisecond, loadRounds: 1,
		rssN: 100, rssGen: 500 * time.Millisecond,
		rssSettle: []time.Duration{500 * time.Millisecond},
		b64Size:   4 << 20, b64Runs: 1,
		startRuns:   2,
		limitRounds: 1, limitSlice: 300 * time.Millisecond, allocN: 50,
		videoSize: 8 << 20, videoPairs: 2,
	}
}
