package images

import "math"

// splitJobs turns the collected input into one input per fal job. With
// num_images, each job asks for as many images as the model allows (at
// least its minimum), so n=7 with a maximum of 4 runs jobs of 4 and 3; a
// model without num_images runs n jobs of one image each. A requested seed
// goes to the first job as given; each later job gets seed + the number of
// images asked of the jobs before it, so that no two jobs repeat an image.
// sizes[i] is how many images job i asks for.
func splitJobs(b *builder, n int, seed *int64) (jobs []map[string]any, sizes []int) {
	withCount := b.caps.NumImages != nil && b.declared("num_images")
	withSeed := seed != nil && b.declared("seed")
	for left := n; left > 0; {
		k := 1
		if withCount {
			k = min(left, per(b.caps.NumImages.Max, n))
			k = max(k, b.caps.NumImages.Min)
		}
		sizes = append(sizes, k)
		left -= k
	}
	jobs = make([]map[string]any, len(sizes))
	done := 0
	for i, k := range sizes {
		in := b.in
		if i < len(sizes)-1 {
			in = b.clone() // the last job takes the collected input itself
		}
		if withCount {
			in["num_images"] = k
		}
		if withSeed {
			in["seed"] = shiftSeed(*seed, done)
		}
		jobs[i] = in
		done += k
	}
	return jobs, sizes
}

// per is the largest batch: the model's maximum, or all n when it declares
// none.
func per(maxCount, n int) int {
	if maxCount > 0 {
		return maxCount
	}
	return n
}

// shiftSeed adds k to seed, stepping down instead where that would
// overflow.
func shiftSeed(seed int64, k int) int64 {
	if seed > math.MaxInt64-int64(k) {
		return seed - int64(k)
	}
	return seed + int64(k)
}
