// Renders the small Markdown subset of our policy texts (headings, lists, paragraphs,
// **bold**) as elements, never as HTML strings.
import type { ComponentChildren } from 'preact';

function inline(text: string): ComponentChildren[] {
  return text.split(/(\*\*[^*]+\*\*)/g).map((part) =>
    part.startsWith('**') && part.endsWith('**') ? <strong>{part.slice(2, -2)}</strong> : part,
  );
}

export function Markdown({ text }: { text: string }) {
  const blocks: ComponentChildren[] = [];
  let list: string[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (list.length) blocks.push(<ul>{list.map((item) => <li>{inline(item)}</li>)}</ul>);
    if (paragraph.length) blocks.push(<p>{inline(paragraph.join(' '))}</p>);
    list = [];
    paragraph = [];
  };
  for (const line of text.split('\n')) {
    const heading = line.match(/^(#{1,3}) (.*)$/);
    if (heading) {
      flush();
      blocks.push(heading[1].length === 1 ? <h2>{heading[2]}</h2> : <h3>{heading[2]}</h3>);
    } else if (line.startsWith('- ')) {
      if (paragraph.length) flush();
      list.push(line.slice(2));
    } else if (line.startsWith('  ') && list.length) {
      list[list.length - 1] += ' ' + line.trim();
    } else if (line.trim() === '') {
      flush();
    } else {
      if (list.length) flush();
      paragraph.push(line.trim());
    }
  }
  flush();
  return <div class="markdown">{blocks}</div>;
}
