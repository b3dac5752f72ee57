import { useLayoutEffect, useRef, useState, type RefObject } from 'react';

/**
 * The width of the element `ref` is put on, kept current as it resizes: the charts draw at their real pixel
 * width, so their text keeps its size on a phone instead of shrinking with a scaled viewBox.
 */
export function useWidth<T extends HTMLElement>(fallback: number): [RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const set = (w: number) => setWidth(Math.max(160, Math.floor(w)));
    set(el.clientWidth || fallback);
    const observer = new ResizeObserver(([entry]) => set(entry.contentRect.width));
    observer.observe(el);
    return () => observer.disconnect();
  }, [fallback]);
  return [ref, width];
}
