// Which rows of a virtualised list to render: pure arithmetic on the
// scroll position, so that 10,000 rows cost as much as a screenful.

// Returns {start, end} (end exclusive) of the rows to render for a list
// of count rows of rowHeight pixels, scrolled to scrollTop in a viewport
// of height pixels, with overscan rows on each side.
export function visibleRange(count, rowHeight, scrollTop, height, overscan) {
	if (count <= 0 || rowHeight <= 0)
		return {start: 0, end: 0};
	const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
	const shown = Math.ceil(Math.max(0, height) / rowHeight) + 1;
	const start = Math.max(0, Math.min(count, first - overscan));
	const end = Math.min(count, first + shown + overscan);
	return {start, end: Math.max(start, end)};
}

// Whether rows up to end need another page: fewer loaded than needed
// and more to come.
export function needsMore(loaded, end, hasMore, ahead) {
	return hasMore && end + ahead > loaded;
}

// The fetched pages ([{at, n, ...}]: rows at..at+n-1 each) that hold any
// of rows start..end-1, to read again.
export function pagesIn(pages, start, end) {
	if (end <= start)
		return [];
	return pages.filter((p) => p.n > 0 && p.at < end && p.at + p.n > start);
}
