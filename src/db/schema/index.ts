export * from "./projects";
export * from "./passes";
export * from "./listener";
export * from "./callbacks";
export * from "./wallets";
export * from "./google";
export * from "./apple";
