// A client-rendered app: the centre serves build/index.html for every app route.
export const ssr = false;
export const prerender = false;
