import { useState } from "preact/hooks";

async function copy(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  // Plain http on another host has no clipboard API: copy through a selected, off-screen text field.
  const field = document.createElement("textarea");
  field.value = text;
  field.setAttribute("readonly", "");
  field.className = "offscreen";
  document.body.append(field);
  field.select();
  document.execCommand("copy");
  field.remove();
}

/** Copies `text` (a pull command, a digest) and says so; `label` names what is copied for screen readers. */
export function CopyButton(props: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  const onClick = () =>
    void copy(props.text).then(() => {
      setDone(true);
      setTimeout(() => setDone(false), 1500);
    });
  return (
    <button type="button" class="copy" onClick={onClick} aria-label={`Copy ${props.label}`}>
      {done ? "Copied" : "Copy"}
    </button>
  );
}
