import { useEffect, useRef, type RefObject } from 'react';
import type { NavigateFunction } from 'react-router';

/** What the keyboard handler reads at the moment of a key press. */
export interface ListKeyState {
  ids: number[];
  selected: number;
  /** Rows in view (PageUp and PageDown move by this). */
  viewRows: number;
  rowH: number;
}

interface Options {
  state: ListKeyState;
  searchRef: RefObject<HTMLInputElement | null>;
  scrollRef: RefObject<HTMLDivElement | null>;
  /** Select row i (-1: none); focus says a key chose it, so it takes the focus once drawn. */
  select: (i: number, focus: boolean) => void;
  clearSearch: () => void;
  navigate: NavigateFunction;
}

/**
 * The subscriptions list's keyboard: "/" searches, arrows, j/k and the page
 * keys move, Home and End jump, Enter opens, Esc clears. Keys typed in other
 * fields, dialogs and menus are left alone; buttons and links keep their own
 * Enter.
 */
export function useListKeys({ state, searchRef, scrollRef, select, clearSearch, navigate }: Options) {
  const current = useRef({ state, select, clearSearch });
  current.current = { state, select, clearSearch };
  useEffect(() => {
    const reveal = (i: number) => {
      const el = scrollRef.current;
      if (!el) return;
      const h = current.current.state.rowH;
      const head = el.querySelector('thead')?.getBoundingClientRect().height ?? h;
      const top = i * h;
      if (top < el.scrollTop) el.scrollTop = top;
      else if (top + h + head > el.scrollTop + el.clientHeight) el.scrollTop = top + h + head - el.clientHeight;
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement | null;
      const inSearch = t === searchRef.current;
      if (t?.closest?.('.bp6-portal, .bp6-overlay')) return;
      const typing = !inSearch && !!t && (t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement || t.isContentEditable);
      if (typing) return;
      const { state: s, select: sel, clearSearch: clear } = current.current;
      const move = (i: number) => {
        const n = Math.max(0, Math.min(i, s.ids.length - 1));
        sel(n, true);
        reveal(n);
      };
      if (inSearch) {
        if (e.key === 'Escape') {
          e.preventDefault();
          if (searchRef.current?.value) clear();
          else searchRef.current?.blur();
        } else if (e.key === 'ArrowDown' || e.key === 'Enter') {
          // Leave the search box for the list.
          e.preventDefault();
          searchRef.current?.blur();
          if (e.key === 'ArrowDown') move(0);
        }
        return;
      }
      const onControl = !!t && t !== scrollRef.current && !!t.closest?.('button, a, [role=tab], [role=menuitem]');
      const cur = s.selected;
      const moves: Record<string, () => number> = {
        ArrowDown: () => (cur < 0 ? 0 : cur + 1),
        j: () => (cur < 0 ? 0 : cur + 1),
        ArrowUp: () => cur - 1,
        k: () => cur - 1,
        PageDown: () => cur + s.viewRows - 1,
        PageUp: () => cur - s.viewRows + 1,
        Home: () => 0,
        End: () => s.ids.length - 1,
      };
      if (moves[e.key]) {
        e.preventDefault();
        move(moves[e.key]());
      } else if (e.key === '/') {
        e.preventDefault();
        searchRef.current?.focus();
        searchRef.current?.select();
      } else if (e.key === 'Enter') {
        if (onControl || cur < 0 || s.ids[cur] === undefined) return;
        e.preventDefault();
        navigate('/subscriptions/' + s.ids[cur]);
      } else if (e.key === 'Escape') {
        sel(-1, false);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate, searchRef, scrollRef]);
}
