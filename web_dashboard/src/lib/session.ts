"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap, type Schemas } from "@/api/client";
import { ApiError } from "@/api/errors";

export type Me = Schemas["MeResponse"];
export const ME_KEY = ["me"] as const;

/** Who is signed in (`GET /v1/me`); a 401 is an answer (nobody), not a failure to retry. */
export function useMe() {
  return useQuery<Me, Error>({
    queryKey: ME_KEY,
    queryFn: () => unwrap(api.GET("/v1/me")),
    retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
    staleTime: 60_000,
  });
}

export function may(me: Me | undefined, permission: string): boolean {
  return me?.permissions.includes(permission) ?? false;
}

export function useSignOut() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/v1/auth/sign-out")),
    onSettled: () => client.clear(),
  });
}
