/** jest's globalSetup (jest.config.js): a program server per worker (tests/helpers/programServers.ts). */
import { startProgramServers } from "./programServers";

export default (globalConfig: { readonly maxWorkers: number }): void => startProgramServers(Math.max(1, globalConfig.maxWorkers));
