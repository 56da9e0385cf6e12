import { Icons, IconSize, type IconName } from '@blueprintjs/icons';

// Only the icons a page shows are fetched (issue 18). Blueprint's default
// loader fetches the paths of every icon of a size at once (about 300 KB of
// JS each for 16 px and 20 px) the first time any icon is drawn. Its
// documented alternative is a custom loader (Icons.setLoaderOptions): this
// one fetches one icon's paths, a JSON file the build writes per icon and
// size (blueprintIcons in vite.config.ts), when Blueprint first draws it.
declare const __BLUEPRINT_ICONS__: string;

/** Fetches one icon's SVG paths (what Blueprint's Icon asks for). */
export async function loadIconPaths(name: IconName, size: IconSize): Promise<string[]> {
  const px = size < IconSize.LARGE ? 16 : 20;
  const res = await fetch(`${__BLUEPRINT_ICONS__}/${px}/${name}.json`);
  if (!res.ok) throw new Error(`icon ${name} (${px}px): HTTP ${res.status}`);
  return (await res.json()) as string[];
}

// Component tests (vitest) keep Blueprint's own loader: there is no server.
if (!import.meta.env.VITEST) Icons.setLoaderOptions({ loader: loadIconPaths });
