// hls.js's light build has the types of the full one (web/src/lib/hls.ts imports its UMD file).
declare module 'hls.js/light' {
  export * from 'hls.js';
  export { default } from 'hls.js';
}
declare module 'hls.js/dist/hls.light.min.js' {
  export * from 'hls.js';
  export { default } from 'hls.js';
}
