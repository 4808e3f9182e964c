/** npm run bench: placeholder until the benchmarks land (see BENCHMARKS.md). */
console.log('no benchmarks yet');
