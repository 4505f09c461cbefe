// Builds DOM nodes from data without ever parsing it as HTML: text becomes text nodes, attributes are set one by one.

/**
 * `h('a', { href, class: 'x', onclick }, 'text', child)`: an element with attributes, listeners (`on…`
 * functions) and children (nodes, or anything else as text; null, undefined and false are left out).
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      element.className = String(value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Appends children as h() does. */
export function append(element, children) {
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/** Removes every child. */
export function clear(element) {
  element.replaceChildren();
}

/** The element with this id; a missing one is a bug in index.html. */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element;
}
