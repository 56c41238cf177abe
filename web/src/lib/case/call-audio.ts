/**
 * A call's `<audio>` for the case page, made as soon as the timeline is known so that the recording loads while the
 * page draws (the page draws for a few hundred ms; an element made by the drawing would only start then).
 * CallAudio.svelte puts it in its place. Recorded phone calls have no caption track to offer.
 */
export function callAudioElement(callId: string, url: string): HTMLAudioElement {
  const a = document.createElement('audio');
  a.preload = 'auto';
  a.dataset.testid = 'case-audio';
  a.dataset.call = callId;
  a.src = url;
  return a;
}

/** Settles when the element has its first audio at its position, or cannot (an error). */
export function audioShown(a: HTMLAudioElement): Promise<void> {
  if (a.readyState >= 2 || a.error) return Promise.resolve();
  return new Promise((r) => {
    a.addEventListener('loadeddata', () => r(), { once: true });
    a.addEventListener('error', () => r(), { once: true });
  });
}
