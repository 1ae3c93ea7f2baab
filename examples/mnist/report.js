// What the run shows at the end besides the confusion matrix (rnnkit's ConfusionMatrix): a
// loss/accuracy plot as a small hand-written SVG (two panels sharing the epoch axis, no dependencies).
import { svg } from 'rnnkit';

// Escaping, round ticks and the document wrapper are rnnkit's small SVG writer (src/tasks/svg.ts).
const { escapeXml, niceTicks: ticks, svgDocument } = svg;

/**
 * One panel: a polyline of `values` against epochs 1..n, with axes, ticks and a title.
 * @returns {string} SVG elements
 */
function panel({ x, y, width, height, values, title, color, low, high, format }) {
  const epochs = values.length;
  const px = (epoch) => x + (epochs > 1 ? ((epoch - 1) / (epochs - 1)) * width : width / 2);
  const py = (value) => y + height - ((value - low) / (high - low || 1)) * height;
  const parts = [`<text x="${x}" y="${y - 8}" font-weight="bold">${escapeXml(title)}</text>`,
    `<rect x="${x}" y="${y}" width="${width}" height="${height}" fill="none" stroke="#999"/>`];
  for (const value of ticks(low, high)) {
    parts.push(`<line x1="${x}" x2="${x + width}" y1="${py(value)}" y2="${py(value)}" stroke="#eee"/>`,
      `<text x="${x - 6}" y="${py(value) + 4}" text-anchor="end">${escapeXml(format(value))}</text>`);
  }
  for (const epoch of ticks(1, epochs).filter((e) => Number.isInteger(e))) {
    parts.push(`<text x="${px(epoch)}" y="${y + height + 16}" text-anchor="middle">${epoch}</text>`);
  }
  const points = values.map((value, i) => `${px(i + 1).toFixed(1)},${py(value).toFixed(1)}`).join(' ');
  parts.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2"/>`,
    ...values.map((value, i) => `<circle cx="${px(i + 1).toFixed(1)}" cy="${py(value).toFixed(1)}" r="2.5" fill="${color}"/>`));
  return parts.join('\n');
}

/**
 * The training curves: mean training loss and test accuracy per epoch.
 * @param {{ epoch: number, loss: number, accuracy: number }[]} curve
 * @param {string[]} [caption]  lines under the plot (recipe, result)
 * @returns {string} a standalone SVG document
 */
export function trainingPlot(curve, caption = []) {
  const width = 760, margin = 60, gap = 70, panelHeight = 190, top = 40;
  const height = top + panelHeight + 50 + 18 * caption.length;
  const panelWidth = (width - 2 * margin - gap) / 2;
  const losses = curve.map((h) => h.loss);
  const accuracies = curve.map((h) => 100 * h.accuracy);
  const lowAccuracy = Math.max(0, Math.floor(Math.min(...accuracies) / 5) * 5);
  const body = [
    panel({ x: margin, y: top, width: panelWidth, height: panelHeight, values: losses, title: 'training loss',
      color: '#d62728', low: 0, high: Math.max(...losses), format: (v) => v.toFixed(2) }),
    panel({ x: margin + panelWidth + gap, y: top, width: panelWidth, height: panelHeight, values: accuracies,
      title: 'test accuracy (%)', color: '#1f77b4', low: lowAccuracy, high: 100, format: (v) => String(v) }),
    `<text x="${width / 2}" y="${top + panelHeight + 34}" text-anchor="middle">epoch</text>`,
    ...caption.map((line, i) => `<text x="${width / 2}" y="${top + panelHeight + 58 + 18 * i}" text-anchor="middle" `
      + `fill="#555" font-size="11">${escapeXml(line)}</text>`),
  ];
  return svgDocument(width, height, body);
}
