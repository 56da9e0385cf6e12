import { useLayoutEffect, useRef, useState, type RefObject } from 'react';

/** Rows rendered beyond the visible ones, above and below. */
export const OVERSCAN = 15;
/** Rows assumed visible before the scroller is measured (and in jsdom). */
const FALLBACK_VISIBLE = 40;

/**
 * Windowing for a long table in a scroller: only the rows in view (and
 * OVERSCAN more each side) are drawn. The row height is measured from the
 * first drawn row; the scroller's position starts at savedTop (the back
 * button) and returns to the top when listKey (filters, sort) changes.
 */
export function useRowWindow(scrollRef: RefObject<HTMLDivElement | null>, count: number, listKey: string, savedTop: number) {
  const [rowH, setRowH] = useState(26);
  const [scroll, setScroll] = useState({ top: savedTop, height: 0 });
  const firstRow = useRef<HTMLTableRowElement>(null);
  useLayoutEffect(() => {
    const h = firstRow.current?.getBoundingClientRect().height ?? 0;
    if (h > 0 && Math.abs(h - rowH) > 0.5) setRowH(h);
  }, [rowH, count]);
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const measure = () => setScroll({ top: el.scrollTop, height: el.clientHeight });
    if (savedTop > 0) el.scrollTop = savedTop;
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [count > 0]);
  // A new filter or sort starts at the top.
  const shownKey = useRef(listKey);
  useLayoutEffect(() => {
    if (shownKey.current === listKey) return;
    shownKey.current = listKey;
    if (scrollRef.current) scrollRef.current.scrollTop = 0;
    setScroll((sc) => ({ ...sc, top: 0 }));
  }, [listKey, scrollRef]);
  const viewRows = scroll.height > 0 ? Math.ceil(scroll.height / rowH) : FALLBACK_VISIBLE;
  const start = Math.max(0, Math.floor(scroll.top / rowH) - OVERSCAN);
  const end = Math.min(count, Math.floor(scroll.top / rowH) + viewRows + OVERSCAN);
  /** For the scroller's onScroll. */
  const onScroll = (el: HTMLElement) => setScroll({ top: el.scrollTop, height: el.clientHeight });
  return { rowH, firstRow, top: scroll.top, viewRows, start, end, onScroll };
}
