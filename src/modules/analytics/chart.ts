import type { Spec } from 'vega';

/** One point of a line chart: the day, which line it belongs to, and its value. */
export interface ChartPoint {
  day: string;
  series: string;
  value: number;
}

/**
 * The series as an SVG line chart, drawn by Vega (a declarative grammar from the University of
 * Washington's IDL, maintained, pure JavaScript): its headless `View` with `renderer: 'none'`
 * renders SVG in Node without a browser, canvas or native binary. The data is inlined in the
 * spec, so the view never loads anything; Vega escapes every text it writes.
 */
export async function lineChart(options: {
  title: string;
  yTitle: string;
  points: ChartPoint[];
}): Promise<string> {
  const spec: Spec = {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    width: 640,
    height: 240,
    padding: 8,
    title: { text: options.title },
    data: [{ name: 'points', values: options.points, format: { parse: { day: 'utc:"%Y-%m-%d"' } } }],
    scales: [
      { name: 'x', type: 'utc', domain: { data: 'points', field: 'day' }, range: 'width' },
      {
        name: 'y',
        type: 'linear',
        domain: { data: 'points', field: 'value' },
        range: 'height',
        nice: true,
        zero: true,
      },
      { name: 'color', type: 'ordinal', domain: { data: 'points', field: 'series' }, range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', format: '%m-%d', formatType: 'utc' },
      { orient: 'left', scale: 'y', title: options.yTitle },
    ],
    legends: [{ fill: 'color', stroke: 'color', title: 'series' }],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'line', data: 'points', groupby: 'series' } },
        marks: [
          {
            type: 'line',
            from: { data: 'line' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'day' },
                y: { scale: 'y', field: 'value' },
                stroke: { scale: 'color', field: 'series' },
                strokeWidth: { value: 2 },
              },
            },
          },
        ],
      },
    ],
  };
  // imported on the first chart, not at start: Vega is some twenty packages to load
  const { parse, View } = await import('vega');
  const view = new View(parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
